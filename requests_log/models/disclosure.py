"""Proof, per accepted account, that a post disclosed the employee's connection."""

from django.conf import settings
from django.db import models

from boundary.models import SocialAccount

from .request import Decision, Evidence, PromotionRequest


class DisclosureProof(models.Model):
    """A post link and/or a screenshot (kept as Evidence, hashed) for one account of an
    accepted request. A projection of its "disclosure proof added" event; never replaced:
    a later proof for the same account is another row."""

    promotion_request = models.ForeignKey(
        PromotionRequest, on_delete=models.PROTECT, related_name="disclosure_proofs"
    )
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="+")
    post_url = models.URLField(max_length=500, blank=True)
    evidence = models.ForeignKey(
        Evidence, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["promotion_request", "account"])]

    def __str__(self) -> str:
        return f"Disclosure proof for {self.account}"
