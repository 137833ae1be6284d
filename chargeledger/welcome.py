"""What `chargeledger serve` prints once it listens: where to look, the admin key, and a block
to paste into another shell that creates an EMP, its key and a first customer."""

from __future__ import annotations

import shlex

from chargeledger.config import Settings

FIELD = "python3 -c 'import json, sys; print(json.load(sys.stdin)[\"{}\"])'"


def base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    return (
        f"http://[{shown}]:{port}" if ":" in shown and not shown.startswith("[") else f"http://{shown}:{port}"
    )


def first_hour(host: str, port: int, settings: Settings, token: str, generated: bool, workers: int) -> str:
    url = base_url(host, port)
    token_file = (settings.data_dir / "admin_token").resolve()
    lines = [
        f"chargeledger is serving on {url}",
        f"  API reference  {url}/schema",
        f"  support page   {url}/support",
        f"  health         {url}/health  (metrics: {url}/metrics)",
    ]
    if workers > 1:
        lines.append(f"  {workers} API processes; the read models, workers and scheduler run in this one")
    if generated:
        lines.append(f"admin key (shown once, kept in {token_file}): {token}")
    if settings.admin_token:
        admin_key = 'export ADMIN_KEY="$CHARGELEDGER_ADMIN_TOKEN"'
    else:
        admin_key = f"export ADMIN_KEY=$(cat {shlex.quote(str(token_file))})"
    lines += [
        "",
        "First steps: paste this into another shell to create an EMP, its key and a customer:",
        "",
        f"export URL={url}",
        admin_key,
        'export EMP_ID=$(curl -sf "$URL/v1/emps" -H "Authorization: Bearer $ADMIN_KEY" \\',
        f'  --json \'{{"name": "Volt Charging", "currency": "EUR"}}\' | {FIELD.format("id")})',
        'export EMP_KEY=$(curl -sf "$URL/v1/emps/$EMP_ID/api-keys" -H "Authorization: Bearer $ADMIN_KEY" \\',
        f'  --json \'{{"role": "emp"}}\' | {FIELD.format("key")})',
        'curl -sf -w "\\n" "$URL/v1/customers" -H "Authorization: Bearer $EMP_KEY" \\',
        '  --json \'{"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}\'',
        "",
    ]
    return "\n".join(lines)
