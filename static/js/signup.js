// Start the new account in the browser's time zone; it can be changed in the profile.
const zoneField = document.getElementById("id_time_zone");
if (zoneField) {
  zoneField.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
}
