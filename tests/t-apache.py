#!/usr/bin/env python3
"""t-apache: the two FastCGI programs behind a real Apache (mpm_event,
mod_proxy_fcgi), configured from the shipped etc/apache-pricesync.conf:
the stream event by event (flushpackets=on on the sync worker, which must
not be merged with the status worker: no AH01146), one `sync` process
answering 409 at once, kill -9, a client that hangs up, the error codes,
ETag/304/HEAD, a second URL prefix, and the API key in no answer or log."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402
import webchecks  # noqa: E402
import webclient  # noqa: E402
import webstack  # noqa: E402
from pstest import diag, eq, ok  # noqa: E402

KEY = "pskey-SECRET-apache-9876543210"


def main():
    if not webstack.have_programs():
        pstest.skip_missing("cgi/sync and cgi/sync-status are not built")
    for tool in (webstack.APACHE, webstack.SPAWN):
        if not os.access(tool, os.X_OK):
            pstest.skip_missing("no %s" % tool)
    if not os.path.exists(os.path.join(webstack.APACHE_MODULES, "mod_proxy_fcgi.so")):
        pstest.skip_missing("no mod_proxy_fcgi")
    pstest.need_cli()
    d = tempfile.mkdtemp(prefix="ps-apache-")
    try:
        with pstest.Fake(key=KEY) as fake:
            with webstack.Stack(d, fake.url, "apache", prefixes=("/", "/pricesync/"),
                         key=KEY, conf_extra={"batch_size": 2,
                                              "concurrency": 1}) as st:
                webchecks.add_symbols(st)
                webchecks.check_streaming(st, fake, "apache")
                webchecks.check_one_process(st, fake, "apache")
                webchecks.check_hangup(st, fake, "apache")
                webchecks.check_basic_codes(st, "apache")
                # Apache passes Host with its port: the Origin must match
                s, _h, _b = webclient.request("POST", st.base_url + "/api/sync",
                                      headers={"Origin": st.base_url})
                eq(s, 200, "apache: a same-origin POST may start a sync")
                s, _h, _b = webclient.request(
                    "POST", st.base_url + "/api/sync",
                    headers={"Origin": "http://127.0.0.1:1"})
                eq(s, 403, "apache: same host, other port -> 403")
                webchecks.check_prefix(st, fake, "/pricesync", "apache")
                webchecks.check_no_key(st, KEY, "apache")
                log = st.error_log_text()
                ok("AH01146" not in log,
                   "apache: no worker merged (AH01146) by the shipped snippet")
                if "AH01146" in log:
                    diag(log[-2000:])
        plain_cgi()
    finally:
        if os.environ.get("PS_KEEP"):
            diag("kept", d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return pstest.done()


def plain_cgi():
    """The shipped plain-CGI snippet (etc/apache-pricesync-cgi.conf)."""
    if not os.path.exists(os.path.join(webstack.APACHE_MODULES, "mod_cgid.so")):
        pstest.skip_missing("no mod_cgid")
    d = tempfile.mkdtemp(prefix="ps-apache-cgi-")
    try:
        with pstest.Fake() as fake:
            with webstack.Stack(d, fake.url, "apache-cgi",
                         conf_extra={"batch_size": 1,
                                     "concurrency": 1}) as st:
                webchecks.add_symbols(st)
                st.give_db_to_worker()
                s, _h, doc = webclient.jrequest("GET", st.base_url + "/api/sync/status")
                ok(s == 200 and (doc or {}).get("symbols") == len(webchecks.SYMS),
                   "apache-cgi: GET /api/sync/status (%r)" % s)
                s, _h, doc = webclient.jrequest("GET", st.base_url +
                                        "/api/prices/AAPL/history")
                ok(s == 200 and (doc or {}).get("symbol") == "AAPL",
                   "apache-cgi: GET /api/prices/AAPL/history (%r)" % s)
                cs = webclient.CurlStream(st.base_url + "/api/sync")
                try:
                    cs.read_all(120)
                finally:
                    cs.close()
                pstest.events_ok(cs.events(),
                                 "apache-cgi: the streamed events follow "
                                 "SPEC §4")
                eq((cs.events() or [{}])[-1].get("type"), "complete",
                   "apache-cgi: POST /api/sync streams a whole sync")
                webchecks.check_cgi_hangup(st, fake, "apache-cgi")
    finally:
        if os.environ.get("PS_KEEP"):
            diag("kept", d)
        else:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
