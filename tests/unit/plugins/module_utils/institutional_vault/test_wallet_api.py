"""The wallet client against a local HTTPS stand-in: the token as a Bearer header, TLS verified with the CA file,
and every failure (refused, TLS, 401, redirect, 404, timeout) a RecoveryError naming the cause and the option."""

import socket
import threading

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import iv_probes
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.wallet_api import WalletApi, check_url
from support.wallet_standin import WalletStandIn

TOKEN = "PLANTED-wallet-token-7f3a9c"


@pytest.fixture
def wallet(tmp_path):
    server = WalletStandIn(tmp_path, token=TOKEN).start()
    yield server
    server.stop()


def api(wallet, **kwargs):
    kwargs.setdefault("token", TOKEN)
    kwargs.setdefault("ca_cert", wallet.ca_cert)
    return WalletApi(wallet.url + "/", timeout=kwargs.pop("timeout", 5), **kwargs)


def test_health_and_accounts_with_the_token_as_bearer(wallet):
    client = api(wallet)
    assert iv_probes.wallet_health(client) == {"status_code": 200, "status": "ok"}
    assert iv_probes.wallet_accounts(client) == (7, "total")
    assert [(path, ok) for path, _query, ok in wallet.requests] == [("/health", True), ("/api/v2/accounts", True)]
    assert wallet.requests[1][1] == {"limit": "500", "offset": "0"}


def test_accounts_are_paged_when_the_wallet_sends_no_total(wallet):
    wallet.send_total = False
    assert iv_probes.wallet_accounts(api(wallet), page_size=3) == (7, "counted over 3 page(s)")
    assert [query["offset"] for _path, query, _ok in wallet.requests] == ["0", "3", "6"]


def test_an_unhealthy_wallet_is_an_answer_not_an_error(wallet):
    wallet.health = (503, {"status": "degraded"})
    assert iv_probes.wallet_health(api(wallet)) == {"status_code": 503, "status": "degraded"}


def test_a_wrong_or_missing_token_names_wallet_api_token(wallet):
    with pytest.raises(RecoveryError) as err:
        iv_probes.wallet_health(api(wallet, token="wrong-token-PLANTED"))
    assert "refused the token in wallet_api_token (401 Unauthorized)" in str(err.value)
    assert "wrong-token-PLANTED" not in str(err.value) and err.value.facts["status"] == 401
    with pytest.raises(RecoveryError) as err:
        iv_probes.wallet_accounts(api(wallet, token=None))
    assert "refused no token (wallet_api_token is not set)" in str(err.value)


def test_an_unknown_ca_names_wallet_ca_cert(wallet):
    with pytest.raises(RecoveryError) as err:
        iv_probes.wallet_health(api(wallet, ca_cert=None))
    assert "TLS certificate could not be verified" in str(err.value) and "wallet_ca_cert" in err.value.fix
    assert wallet.requests == []  # nothing, not even the token, went to an unverified server


def test_validate_certs_false_skips_verification(wallet):
    assert iv_probes.wallet_health(api(wallet, ca_cert=None, validate_certs=False))["status_code"] == 200


def test_a_refused_connection_names_wallet_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RecoveryError) as err:
        iv_probes.wallet_health(WalletApi("https://127.0.0.1:%d" % port, timeout=5))
    assert "cannot reach the wallet" in str(err.value) and "check wallet_url" in err.value.fix


def test_a_silent_server_times_out_naming_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    try:
        with pytest.raises(RecoveryError) as err:
            iv_probes.wallet_health(WalletApi("https://127.0.0.1:%d" % listener.getsockname()[1], timeout=1))
        assert "did not answer within 1 seconds" in str(err.value) and "raise timeout" in err.value.fix
    finally:
        thread.join(5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_redirect_is_not_followed(wallet):
    wallet.redirect_to = "https://elsewhere.example.com/health"
    with pytest.raises(RecoveryError) as err:
        iv_probes.wallet_health(api(wallet))
    assert "redirects (HTTP 302) to https://elsewhere.example.com/health" in str(err.value)
    assert len(wallet.requests) == 1


def test_a_wrong_path_names_wallet_url(wallet):
    with pytest.raises(RecoveryError) as err:
        api(wallet).get("/nope")
    assert "answered HTTP 404" in str(err.value) and "check wallet_url" in err.value.fix


def test_urls_without_scheme_host_or_with_credentials_are_refused():
    assert check_url("https://wallet.example.com/") == "https://wallet.example.com"
    for bad in ("wallet.example.com", "ftp://wallet", "https://", "https://user:pw@wallet.example.com"):
        with pytest.raises(RecoveryError) as err:
            check_url(bad)
        assert "wallet_url" in str(err.value) and "user:pw" not in str(err.value)
