"""Twilio's REST API, for messages and calls we start: its wire format only."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from assistant.errors import HelpingHandsError

logger = logging.getLogger(__name__)

API_BASE = "https://api.twilio.com"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class TwilioError(HelpingHandsError):
    """Twilio did not take a request.

    TwilioError
     +-- TwilioRejected   (twilio-rejected: it said no; trying again won't help)
     +-- TwilioUnreachable (twilio-unreachable: it never got the request; retry)
     +-- TwilioUncertain   (twilio-uncertain: it may have acted; do not repeat)
    """

    code = "twilio-error"


class TwilioRejected(TwilioError):
    code = "twilio-rejected"


class TwilioUnreachable(TwilioError):
    code = "twilio-unreachable"


class TwilioUncertain(TwilioError):
    code = "twilio-uncertain"


@dataclass
class TwilioRestClient:
    """Sends messages and starts calls on one Twilio account."""

    account_sid: str
    auth_token: str
    from_number: str
    transport: httpx.AsyncBaseTransport | None = None
    base_url: str = API_BASE

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            auth=(self.account_sid, self.auth_token),
            timeout=TIMEOUT,
            transport=self.transport,
        )

    async def _post(self, path: str, form: dict[str, str]) -> dict:
        url = f"/2010-04-01/Accounts/{self.account_sid}/{path}"
        try:
            async with self._client() as client:
                response = await client.post(url, data=form)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise TwilioUnreachable("could not reach Twilio") from error
        except httpx.TimeoutException as error:
            raise TwilioUncertain("Twilio did not answer in time") from error
        except httpx.HTTPError as error:
            raise TwilioUncertain(f"Twilio request failed: {error}") from error
        if response.status_code in (429, 503):
            raise TwilioUnreachable(f"Twilio is busy ({response.status_code})")
        if response.status_code >= 500:
            raise TwilioUncertain(f"Twilio failed ({response.status_code})")
        if response.status_code >= 400:
            raise TwilioRejected(f"Twilio refused ({response.status_code})")
        try:
            return response.json()
        except ValueError as error:
            raise TwilioUncertain("Twilio answered nonsense") from error

    async def send_sms(self, to: str, body: str) -> str:
        """Send a text message; return Twilio's MessageSid."""
        answer = await self._post(
            "Messages.json", {"To": to, "From": self.from_number, "Body": body}
        )
        return str(answer.get("sid", ""))

    async def start_call(self, to: str, twiml: str) -> str:
        """Ring `to` and run `twiml` when they answer; return the CallSid."""
        answer = await self._post(
            "Calls.json", {"To": to, "From": self.from_number, "Twiml": twiml}
        )
        return str(answer.get("sid", ""))
