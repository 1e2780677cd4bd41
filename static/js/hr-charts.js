// On a narrow screen a chart scrolls sideways rather than shrink its labels (app.css):
// the months' chart starts scrolled to its end, where the newest months are.
document.querySelectorAll(".chart-scroll[data-newest-last]").forEach((figure) => {
  figure.scrollLeft = figure.scrollWidth;
});
