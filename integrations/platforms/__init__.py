"""Platform adapters: verify, parse (and, from the replies issue on, send).

Each module exposes the same functions:
- `verify(*, body: bytes, headers: Mapping[str, str], secret: str) -> bool`
- `account_ids(payload: dict) -> set[str]`: the accounts a delivery addresses
- `parse(payload: dict, *, account_id: str) -> list[NormalizedEvent]`; `account_id` is the
  channel's own id when the delivery names one channel (Telegram, polled pages), else "".
App-level webhooks also expose `handshake(*, params, verify_tokens, secrets) -> HttpResponse`.
"""

from importlib import import_module
from types import ModuleType

from integrations.models import Platform

_MODULES = {
    Platform.FACEBOOK: "meta",
    Platform.INSTAGRAM: "meta",
    Platform.X: "x",
    Platform.LINKEDIN: "linkedin",
    Platform.BLUESKY: "bluesky",
    Platform.TELEGRAM: "telegram",
}


def adapter_for(platform: str) -> ModuleType:
    return import_module(f"integrations.platforms.{_MODULES[platform]}")
