"""The export reports tab's filter of the generated files by billing period."""

from django import forms

from hostmeter.metering.selectors.updates import UsagePeriod


class PeriodFilterForm(forms.Form):
    """All periods, the current one to date, or one closed period (YYYY-MM keys)."""

    period = forms.ChoiceField(
        label="Billing period",
        required=False,
        error_messages={"invalid_choice": "%(value)s is not a billing period with figures."},
    )

    def __init__(self, *args, periods: list[UsagePeriod], **kwargs):
        super().__init__(*args, **kwargs)
        self.periods = {p.key: p for p in periods}
        choices = [("", "All periods")] + [(p.key, p.label) for p in periods]
        self.fields["period"].choices = choices

    def chosen(self) -> UsagePeriod | None:
        """The period asked for; None for all (or for one that is not listed)."""
        if not self.is_valid():
            return None
        return self.periods.get(self.cleaned_data["period"])
