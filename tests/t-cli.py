#!/usr/bin/env python3
"""t-cli: the `pricesync` command line (SPEC §6): validation that writes
nothing, add/remove/import/list/history/status, exit codes 0/1/2/3, config
errors naming file, line and key."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tests"))
from pstest import (Fake, Workdir, by_symbol, cli_cmd, diag, done, eq, need_cli, ok,
                    scenario, events_ok, terminal)  # noqa: E402


def symbols_of(w):
    rc, doc, err = w.json("list", "--json")
    return [r["symbol"] for r in (doc or {}).get("symbols", [])]


def t_usage():
    """usage errors exit 2, help and version exit 0"""
    with Workdir() as w:
        w.write_conf(fmp_base_url="http://127.0.0.1:9")
        for args, name in ((["frobnicate"], "unknown command"),
                           ([], "no command"),
                           (["list", "--bogus"], "unknown option"),
                           (["add"], "add without symbols"),
                           (["history"], "history without a symbol"),
                           (["import"], "import without a file"),
                           (["add", "AAPL", "--quantity"], "option without its argument"),
                           (["list", "-x"], "unknown short option"),
                           (["list", "--json=1"], "an argument to a flag"),
                           (["list", "--from", "x"], "another command's option"),
                           (["status", "extra"], "an unexpected operand"),
                           (["history", "A", "B"], "two symbols"),
                           (["sync", "--bogus"], "sync with a bad option")):
            rc, out, err = w.cli(*args)
            eq(rc, 2, "%s exits 2" % name)
            ok("pricesync:" in err, "%s says why on stderr" % name)
            eq(out, "", "%s prints nothing on stdout" % name)
            ok(not os.path.exists(w.db),
               "%s creates no database directory" % name)
        rc, out, err = w.cli("list", "-x")
        ok("unknown option '-x'" in err, "-x is an unknown option: %s"
           % err.strip())
        rc, out, err = w.cli("list", "--json=1")
        ok("'--json=1'" in err and "takes no argument" in err,
           "--json=1: %s" % err.strip())
        rc, out, err = w.cli("list", "--from", "x")
        ok("unknown option '--from'" in err,
           "names the option, not its argument: %s" % err.strip())
        rc, out, err = w.cli("add", "AAPL", "--quantity")
        ok("'--quantity' needs an argument" in err, err.strip())
        rc, out, err = w.cli("frob\x1b[2J")
        ok("\x1b" not in err and "frob?[2J" in err,
           "an unknown command is quoted: %r" % err)
        rc, out, err = w.cli("--help")
        ok(rc == 0 and "usage:" in out and "import" in out, "--help")
        rc, out, err = w.cli("sync", "--help")
        ok(rc == 0 and "usage: pricesync sync" in out, "sync --help")
        rc, out, err = w.cli("--version")
        ok(rc == 0 and out.startswith("pricesync "), "--version")


def t_symbols():
    """invalid symbols are refused by name and nothing is written"""
    with Workdir() as w:
        w.write_conf(fmp_base_url="http://127.0.0.1:9")
        rc, out, err = w.cli("add", "aapl", "vod.l", "^gspc", "BRK-B", "EURUSD=X")
        eq(rc, 0, "valid symbols are added")
        eq(symbols_of(w), ["AAPL", "BRK-B", "EURUSD=X", "VOD.L", "^GSPC"],
           "symbols are upper-cased and listed sorted")
        # How each is named: quoted as typed, with each byte that is not
        # printable ASCII shown as '?' (the two bytes of "Ä": "??").
        for bad, shown in (("BAD SYM", "'BAD SYM'"),
                           ("TOOLONGSYMBOLNAMEXXXXX", "'TOOLONGSYMBOLNAMEXXXXX'"),
                           ("A/B", "'A/B'"), ("", "''"), ("Ä", "'??'")):
            rc, out, err = w.cli("add", "MSFT", bad)
            eq(rc, 1, "add %r exits 1" % bad)
            ok("invalid symbol " + shown in err,
               "the message names %r as %s: %s" % (bad, shown, err.strip()))
            ok(bad.isascii() or bad not in err,
               "non-ASCII bytes are not sent to the terminal raw")
        eq(symbols_of(w), ["AAPL", "BRK-B", "EURUSD=X", "VOD.L", "^GSPC"],
           "nothing was written by the refused adds")
        rc, out, err = w.cli("remove", "AAPL", "NOPE")
        eq(rc, 1, "remove of an unknown symbol exits 1")
        ok("NOPE" in err, "and names it")
        ok("AAPL" in symbols_of(w), "and removes nothing")
        rc, out, err = w.cli("add", "AAPL", "--quantity", "-1")
        eq(rc, 1, "a negative quantity is refused")
        rc, out, err = w.cli("add", "AAPL", "--currency", "DOLLARS")
        eq(rc, 1, "a bad currency is refused")
        ok("DOLLARS" in err, "and named")
        for args in (["add", "AAPL", "--quantity", "\x1b]0;pwned\x07"],
                     ["add", "AAPL", "--currency", "\x1b[2J"],
                     ["add", "A\x1b[2J"],
                     ["history", "AAPL", "--from", "\x1b[2J"],
                     ["history", "AAPL", "--limit", "\x1b[2J"],
                     ["backfill", "--days", "\x1b[2J"],
                     ["import", os.path.join(w.path, "no\x1b[2J.csv")]):
            rc, out, err = w.cli(*args)
            ok(rc == 1 and "?" in err and "\x1b" not in err
               and "\x07" not in err,
               "%s: the value is quoted, no control byte reaches the "
               "terminal: %r" % (args[1], err))
        rc, out, err = w.cli("add", "AAPL", "--quantity", "2.5", "--currency", "gbx")
        eq(rc, 0, "quantity and GBX currency")
        row = by_symbol(w.json("list", "--json")[1])["AAPL"]
        eq(row["quantity"], 2.5, "quantity stored")
        eq(row["currency"], "GBp", "GBX is taken as GBp")
        rc, out, err = w.cli("remove", "aapl")
        eq(rc, 0, "remove")
        ok("AAPL" not in symbols_of(w), "removed")
        rc, out, err = w.cli("add", "nflx", "NFLX", "--quantity", "2")
        ok(rc == 0 and symbols_of(w).count("NFLX") == 1,
           "add NFLX nflx adds one symbol")
        rc, out, err = w.cli("remove", "NFLX", "nflx")
        ok(rc == 0 and "NFLX" not in symbols_of(w),
           "remove NFLX nflx removes it once, no 'does not exist': %s"
           % err.strip())


def t_import():
    """import: header, comments, blanks; a bad line refuses the whole file"""
    with Workdir() as w:
        w.write_conf(fmp_base_url="http://127.0.0.1:9")
        good = w.file("good.csv", "symbol,quantity,currency\n# a comment\n\n"
                      "aapl,10\nVOD.L,200,GBp\r\nSAP.DE,,EUR\nMSFT\n")
        rc, out, err = w.cli("import", good)
        eq(rc, 0, "good file imported")
        rows = by_symbol(w.json("list", "--json")[1])
        eq(sorted(rows), ["AAPL", "MSFT", "SAP.DE", "VOD.L"], "four symbols")
        eq(rows["AAPL"]["quantity"], 10, "quantity from the file")
        eq(rows["SAP.DE"]["currency"], "EUR", "currency from the file")
        eq(rows["MSFT"]["quantity"], None, "no quantity is null")
        bad = w.file("bad.csv", "TSLA,1\nNVDA,2\nBAD SYM,3\nAMZN\n")
        rc, out, err = w.cli("import", bad)
        eq(rc, 1, "bad file exits 1")
        ok("bad.csv:3" in err and "BAD SYM" in err,
           "the message names the file, line and symbol: %s" % err.strip())
        ok("TSLA" not in by_symbol(w.json("list", "--json")[1]),
           "nothing from the bad file was written")
        bad2 = w.file("bad2.csv", "TSLA,lots\n")
        rc, out, err = w.cli("import", bad2)
        ok(rc == 1 and "bad2.csv:1" in err and "lots" in err,
           "a bad quantity names line and value")
        rc, out, err = w.cli("import", os.path.join(w.path, "missing.csv"))
        ok(rc == 1 and "missing.csv" in err, "a missing file is named")

        def bfile(name, data):
            p = os.path.join(w.path, name)
            with open(p, "wb") as fh:
                fh.write(data)
            return p
        rc, out, err = w.cli("import", bfile(
            "bom.csv", b"\xef\xbb\xbfsymbol,quantity\r\nNFLX,4\r\n"))
        ok(rc == 0 and by_symbol(w.json("list", "--json")[1])
           .get("NFLX", {}).get("quantity") == 4,
           "a file saved with a UTF-8 BOM imports: %s" % err.strip())
        rc, out, err = w.cli("import", bfile("nul.csv", b"ORCL\nIBM\0,5\nINTC\n"))
        ok(rc == 1 and "nul.csv:2" in err and "NUL" in err,
           "a NUL in a line refuses the file, naming the line: %s" % err.strip())
        rows = by_symbol(w.json("list", "--json")[1])
        ok("ORCL" not in rows and "IBM" not in rows,
           "and nothing from it was written")
        rc, out, err = w.cli("import", bfile("esc.csv", b"AAPL,\x1b]0;pwned\x07\n"))
        ok(rc == 1 and "esc.csv:1" in err and "pwned" in err
           and "\x1b" not in err and "\x07" not in err,
           "a bad quantity is quoted, control bytes never reach the "
           "terminal: %r" % err)


def t_config():
    """unknown keys and bad values name file, line and key; nothing written"""
    with Workdir() as w:
        with open(w.conf, "w") as fh:
            fh.write("# comment\n\nbatch_size = 50\nbogus_key = 1\n")
        rc, out, err = w.cli("add", "AAPL")
        eq(rc, 1, "unknown key exits 1")
        ok(w.conf + ":4" in err and "bogus_key" in err,
           "names file, line and key: %s" % err.strip())
        ok(not os.path.exists(w.db), "no database was created")
        with open(w.conf, "w") as fh:
            fh.write("concurrency = 99\n")
        rc, out, err = w.cli("list")
        ok(rc == 1 and ":1" in err and "concurrency" in err and "99" in err,
           "a bad value names line, key and value: %s" % err.strip())
        with open(w.conf, "w") as fh:
            fh.write("fmp_batch = sometimes\n")
        rc, out, err = w.cli("sync", "--json")
        ev = [json.loads(l) for l in out.splitlines() if l.strip()]
        ok(rc == 1 and len(ev) == 1 and ev[0]["code"] == "config"
           and "fmp_batch" in ev[0]["message"],
           "bad fmp_batch refused, as a config event: %s" % out.strip())


def t_key_warnings():
    """a config or key file holding the key that others can read: a warning"""
    with Workdir() as w:
        w.write_conf(fmp_base_url="http://127.0.0.1:9",
                     fmp_api_key="cli-secret-1")
        os.chmod(w.conf, 0o644)
        rc, out, err = w.cli("status")
        ok(rc == 0 and "warning:" in err and w.conf in err
           and "chmod" in err and "root:pricesync" in err,
           "a world-readable config holding a key: a warning on stderr: %s"
           % err.strip())
        ok("cli-secret-1" not in err, "that does not show the key")
        ok(json.loads(out)["running"] is False, "and the command still runs")
        os.chmod(w.conf, 0o600)
        rc, out, err = w.cli("status")
        ok(rc == 0 and "warning" not in err, "mode 600: no warning")
        kf = w.file("fmp.key", "cli-secret-2 \r\n")
        w.write_conf(fmp_base_url="http://127.0.0.1:9", fmp_api_key_file=kf)
        os.chmod(kf, 0o644)
        w.env.pop("FMP_API_KEY", None)
        rc, out, err = w.cli("status")
        ok(rc == 0 and "warning:" in err and kf in err and "chmod 600" in err,
           "a world-readable key file: a warning naming it: %s" % err.strip())
        os.chmod(kf, 0o640)
        rc, out, err = w.cli("status")
        ok(rc == 0 and "warning" not in err, "mode 640: no warning")


def t_parse_first():
    """the command line is parsed before the config or the store is read"""
    with Workdir() as w:
        with open(w.conf, "w") as fh:
            fh.write("batch_size = 50\nbogus_key = 1\n")
        rc, out, err = w.cli("sync")  # stdout is a pipe: events
        ev = [json.loads(l) for l in out.splitlines() if l.strip()]
        eq(rc, 1, "sync under a bad config exits 1")
        ok(len(ev) == 1 and ev[0]["type"] == "error"
           and ev[0]["code"] == "config",
           "its config error event is on stdout: %r" % out)
        ok(ev and w.conf + ":2" in ev[0]["message"]
           and "bogus_key" in ev[0]["message"],
           "naming file, line and key")
        for args in (["list", "--bogus"], ["sync", "--bogus"], ["history"],
                     ["add", "AAPL", "--quantity"]):
            rc, out, err = w.cli(*args)
            eq(rc, 2, "%s under a bad config is a usage error (2)"
               % " ".join(args))
            ok("bogus_key" not in err, "and the config is not read")
        ok(not os.path.exists(w.db), "no database directory was created")
    with Workdir() as w:
        w.write_conf(fmp_base_url="http://127.0.0.1:9")
        w.env["PRICESYNC_DB"] = "/proc/nope"
        rc, out, err = w.cli("sync")
        ev = [json.loads(l) for l in out.splitlines() if l.strip()]
        eq(rc, 1, "sync with a store that cannot open exits 1")
        ok(len(ev) == 1 and ev[0]["type"] == "error"
           and ev[0]["code"] == "store" and "/proc/nope" in ev[0]["message"],
           "its store error event is on stdout: %r" % out)
        rc, out, err = w.cli("list")
        ok(rc == 1 and out == "" and "/proc/nope" in err,
           "other commands say it on stderr: %s" % err.strip())


def t_no_key():
    """no key and the real FMP: sync fails with config and says what to set"""
    with Workdir() as w:
        env_key = w.env.pop("FMP_API_KEY", None)
        w.write_conf()
        w.env.pop("FMP_BASE_URL", None)
        rc, out, err = w.cli("sync", "--json")
        eq(rc, 1, "exit 1")
        ev = [json.loads(l) for l in out.splitlines() if l.strip()]
        ok(len(ev) == 1 and ev[0]["type"] == "error" and ev[0]["code"] == "config",
           "only the config error event: %s" % out.strip())
        ok(ev and "fmp_api_key" in ev[0]["message"] and w.conf in ev[0]["message"],
           "the message says which key to set in which file")
        del env_key


def t_sync_and_views():
    """sync exit codes, list table, status, history JSON and CSV"""
    with Fake() as fake, Workdir(fake) as w:
        w.write_conf(batch_size=2)
        rc, out, err = w.cli("status")
        doc = json.loads(out)
        ok(rc == 0 and doc["last_synced"] is None and doc["fx"] is None and
           doc["last_result"] is None and doc["running"] is False,
           "status before the first sync has nulls")
        w.cli("add", "AAPL", "MSFT", "VOD.L", "--quantity", "3")
        rc, out, err = w.cli("sync")  # not a terminal: NDJSON
        ev = [json.loads(l) for l in out.splitlines()]
        eq(rc, 0, "a clean sync exits 0")
        events_ok(ev, "piped sync prints the NDJSON events")
        eq(terminal(ev)["updated"], 3, "three updated")
        fake.control({"drop": ["MSFT"]})
        rc, ev, err = w.sync()
        eq(rc, 3, "a sync with a failed symbol exits 3")
        eq(terminal(ev)["failed_symbols"], ["MSFT"], "MSFT named")
        rc, out, err = w.cli("list")
        ok(rc == 0 and "VOD.L" in out.split("\n", 1)[1] and "SYMBOL" in out,
           "list prints a table")
        ok("not returned by FMP" in out, "the table shows the error")
        rc, doc, err = w.json("history", "aapl")
        ok(rc == 0 and doc["symbol"] == "AAPL" and len(doc["points"]) == 1,
           "history JSON has one point")
        rc, out, err = w.cli("history", "AAPL", "--csv")
        lines = out.splitlines()
        ok(rc == 0 and lines[0] == "time,price" and len(lines) == 2
           and lines[1].startswith("2025-11-07T21:00:02Z,"), "history CSV")
        rc, out, err = w.cli("history", "AAPL", "--from", "yesterday")
        ok(rc == 1 and "yesterday" in err, "a bad --from is named")
        rc, out, err = w.cli("history", "AAPL", "--from", "2026-02-01",
                             "--to", "2026-01-01")
        ok(rc == 1 and "from is after to" in err,
           "--from after --to is refused, as by sync-status")
        rc, out, err = w.cli("history", "ZZZZ")
        ok(rc == 1 and "ZZZZ" in err, "history of an unknown symbol fails")
        rc, doc, err = w.json("status")
        ok(doc["last_synced"] is not None and doc["symbols"] == 3 and
           doc["last_result"]["failed_symbols"] == ["MSFT"]
           and doc["requests_today"] >= 4, "status after syncs: %s" % doc)


def t_hostile_names():
    """upstream strings are stored clean; the table escapes; JSON stays UTF-8"""
    body = ('[{"symbol":"EVIL","name":"Evil \\u001b]0;pwned\\u0007'
            '\\u001b[2J Corp \udcff\udcfe end","price":12.5,'
            '"exchange":"NAS\\u0007DAQ","timestamp":1762549202}]')
    with Fake() as fake, Workdir(fake) as w:
        w.write_conf(fmp_batch="single")
        w.cli("add", "EVIL")
        fake.control({"fail": [{"match": "EVIL", "status": 200,
                                "body": body}]})
        rc, ev, err = w.sync()
        eq(rc, 0, "a sync of a name with control bytes and 0xff 0xfe")
        p = subprocess.run(cli_cmd(["list", "--json"]), env=w.env,
                           capture_output=True)
        try:
            doc = json.loads(p.stdout.decode("utf-8"))
        except ValueError as e:
            doc = None
            diag("list --json: %r (%s)" % (p.stdout[:300], e))
        ok(doc is not None, "list --json (the /api/prices JSON) is valid "
           "UTF-8 and JSON")
        row = by_symbol(doc or {"symbols": []}).get("EVIL", {})
        eq(row.get("name"), "Evil ]0;pwned[2J Corp  end",
           "the name was stored without its control characters and "
           "invalid bytes")
        eq(row.get("exchange"), "NASDAQ", "the exchange too")
        p = subprocess.run(cli_cmd(["list"]), env=w.env, capture_output=True)
        ok(p.returncode == 0 and b"EVIL" in p.stdout, "list prints the table")
        ok(b"\x1b" not in p.stdout and b"\x07" not in p.stdout,
           "the table holds no ESC and no BEL: %r" % p.stdout[-200:])
        ok(b"\xff" not in p.stdout, "nor a byte that is not UTF-8")


def main():
    need_cli()
    for fn in (t_usage, t_symbols, t_import, t_config, t_parse_first,
               t_key_warnings,
               t_no_key, t_hostile_names,
               t_sync_and_views):
        scenario(fn)
    return done()


if __name__ == "__main__":
    sys.exit(main())
