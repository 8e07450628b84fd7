"""Where each CRM is and the credential Baton uses for it: the worker's fetches and writes, and
`baton directory sync`, read the same BATON_* variables through this one class."""

from __future__ import annotations

from pydantic import SecretStr, field_validator, model_validator

from infra.baton_settings import BatonSettings


class CrmSettings(BatonSettings):
    hubspot_token: SecretStr = SecretStr("")
    hubspot_api_url: str = "https://api.hubapi.com"
    hubspot_hold_property: str = "baton_commission_hold"
    salesforce_instance_url: str = ""
    salesforce_token: SecretStr = SecretStr("")
    salesforce_api_version: str = "v61.0"
    salesforce_hold_field: str = "Baton_Commission_Hold__c"
    pipedrive_api_token: SecretStr = SecretStr("")
    pipedrive_api_url: str = "https://api.pipedrive.com"
    pipedrive_hold_field: str = "baton_commission_hold"

    @field_validator("*", mode="before")
    @classmethod
    def _strip_pasted(cls, value: object) -> object:
        # A token pasted with a trailing newline would otherwise pass as configured and fail as a header.
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _whole_salesforce(self) -> CrmSettings:
        if bool(self.salesforce_instance_url) != bool(self.salesforce_token.get_secret_value()):
            missing = "BATON_SALESFORCE_TOKEN" if self.salesforce_instance_url else "BATON_SALESFORCE_INSTANCE_URL"
            raise ValueError(
                f"Salesforce needs both BATON_SALESFORCE_INSTANCE_URL and BATON_SALESFORCE_TOKEN; {missing} is unset"
            )
        return self
