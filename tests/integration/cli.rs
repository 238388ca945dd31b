//! The `kansli` binary as a user runs it: output, exit codes, and several processes at once.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::TestDb;
use crate::on_both_backends;

fn kansli(db: &TestDb, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kansli"))
        .args(args)
        .current_dir(dir)
        .env("KANSLI_DATABASE_URL", &db.url)
        .env("KANSLI_ACTOR", "per.ekdahl")
        .env(
            "KANSLI_WORKFLOWS_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows"),
        )
        .env(
            "KANSLI_WORKFLOWS_TEMPLATES",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        )
        .env_remove("RUST_LOG")
        .output()
        .expect("run kansli")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 stderr")
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        stderr(&out),
        stdout(&out)
    );
    stdout(&out)
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

on_both_backends! {
    async fn a_registrator_opens_shows_and_registers_from_the_command_line(db) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        ok(kansli(db, d, &["org", "import", "--demo"]));
        let out = ok(kansli(db, d, &["case", "open", "--series", "KS", "--title", "Årlig uppföljning av aktiva åtgärder", "--handlaggare", "amira.hadzic"]));
        let number = last_line(&out).to_owned();
        assert!(number.starts_with("KS 20") && number.contains('/'), "{out}");
        let shown = ok(kansli(db, d, &["case", "show", &number]));
        assert!(shown.contains("Amira Hadžić") && shown.contains("pågående"), "{shown}");
        std::fs::write(d.join("svar.txt"), "Svar från BUF").unwrap();
        let out = ok(kansli(db, d, &["document", "add", &number, "--direction", "inkommande", "--date", "2026-03-04", "--counterpart", "BUF", "--description", "Svar på enkät", "--file", "svar.txt"]));
        assert_eq!(last_line(&out), format!("{number}:1"));
        let json: serde_json::Value = serde_json::from_str(&ok(kansli(db, d, &["case", "show", &number, "--format", "json"]))).unwrap();
        assert_eq!(json["documents"][0]["number"], format!("{number}:1"));
        assert_eq!(json["documents"][0]["file"]["name"], "svar.txt");
        assert_eq!(json["opened_by"], "per.ekdahl");
        let out = ok(kansli(db, d, &["document", "get", &format!("{number}:1"), "--output", "ut.txt"]));
        assert!(out.contains("ut.txt"));
        assert_eq!(std::fs::read_to_string(d.join("ut.txt")).unwrap(), "Svar från BUF");
        let list: serde_json::Value = serde_json::from_str(&ok(kansli(db, d, &["case", "list", "--text", "aktiva", "--format", "json"]))).unwrap();
        assert_eq!(list["cases"][0]["number"], number.as_str());
        let csv = ok(kansli(db, d, &["registry", "export", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv"]));
        assert!(csv.contains(&format!("{number}:1;2026-03-04;inkommande")), "{csv}");
        ok(kansli(db, d, &["case", "close", &number, "--reason", "Klart"]));
        let history = ok(kansli(db, d, &["case", "history", &number]));
        assert!(history.contains("ärende avslutat") && history.contains("per.ekdahl: "), "{history}");
    }

    async fn bad_input_exits_with_code_2_and_a_message_that_names_it(db) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        ok(kansli(db, d, &["org", "import", "--demo"]));
        let number = last_line(&ok(kansli(db, d, &["case", "open", "--series", "KS", "--title", "T"]))).to_owned();
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (vec!["case", "open", "--series", "XX", "--title", "T"], "unknown series \"XX\""),
            (vec!["case", "show", "KS 2026-1"], "not a diarienummer"),
            (vec!["document", "add", &number, "--direction", "in", "--date", "2026-02-30", "--description", "x"], "--date: \"2026-02-30\""),
            (vec!["document", "add", &number, "--direction", "sidledes", "--description", "x"], "--direction"),
            (vec!["registry", "export", "--from", "2026-13-01", "--to", "2026-12-31", "--format", "json"], "--from"),
            (vec!["case", "open", "--series", "KS"], "--title"),
        ];
        for (args, expected) in cases {
            let out = kansli(db, d, &args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(expected), "{args:?}: {}", stderr(&out));
        }
        let out = kansli(db, d, &["case", "show", "KS 1999/5"]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        // A bad organisation file: the file and line are named, and nothing of it is imported.
        std::fs::write(d.join("org.toml"), "[[units]]\ncode = \"NY\"\nname = \"Ny förvaltning\"\nkind = \"förvaltning\"\n\n[[units]]\ncode = \"FEL\"\nname = \"Fel\"\nkind = \"planet\"\n").unwrap();
        let out = kansli(db, d, &["org", "import", "org.toml"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("org.toml:") && stderr(&out).contains("unknown unit kind \"planet\""), "{}", stderr(&out));
        assert!(!ok(kansli(db, d, &["org", "show"])).contains("Ny förvaltning"));
        // The refusals used no number.
        let next = last_line(&ok(kansli(db, d, &["case", "open", "--series", "KS", "--title", "T2"]))).to_owned();
        assert_eq!(next, number.replace("/1", "/2"));
    }

    async fn several_kansli_processes_on_one_database_give_gap_free_numbers(db) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_owned();
        ok(kansli(db, &d, &["org", "import", "--demo"]));
        const PROCESSES: usize = 4;
        const EACH: usize = 12;
        let mut handles = Vec::new();
        for _ in 0..PROCESSES {
            let (url, d) = (db.url.clone(), d.clone());
            handles.push(std::thread::spawn(move || {
                (0..EACH).map(|_| {
                    let out = Command::new(env!("CARGO_BIN_EXE_kansli"))
                        .args(["case", "open", "--series", "KLF", "--title", "Parallell process"])
                        .current_dir(&d).env("KANSLI_DATABASE_URL", &url).output().unwrap();
                    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                    let text = String::from_utf8(out.stdout).unwrap();
                    let number = text.lines().last().unwrap().to_owned();
                    number.rsplit('/').next().unwrap().parse::<u32>().unwrap()
                }).collect::<Vec<_>>()
            }));
        }
        let mut all = BTreeSet::new();
        for h in handles {
            for n in h.join().unwrap() {
                assert!(all.insert(n), "number {n} given twice");
            }
        }
        assert_eq!(all, (1..=(PROCESSES * EACH) as u32).collect::<BTreeSet<_>>());
    }

    async fn the_handlaggare_and_the_sekreterare_work_from_the_command_line(db) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        ok(kansli(db, d, &["org", "import", "--demo"]));
        // Variables are typed by the workflow: an undeclared one or a wrong type is refused.
        let out = kansli(db, d, &["workflow", "start", "aktiva-atgarder", "--var", "to_kf=kanske"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("--var to_kf") && stderr(&out).contains("true/ja or false/nej"), "{}", stderr(&out));
        let out = kansli(db, d, &["workflow", "start", "aktiva-atgarder", "--var", "okand=1"]);
        assert!(out.status.code() == Some(2) && stderr(&out).contains("declares no such variable"), "{}", stderr(&out));
        let number = last_line(&ok(kansli(db, d, &["workflow", "start", "aktiva-atgarder", "--var", "preparing_organ=KSAG"]))).to_owned();
        // A second follow-up in the same year would invite every förvaltning twice: refused,
        // naming the ärende that has the year, unless asked for with --again.
        let twice = kansli(db, d, &["workflow", "start", "aktiva-atgarder"]);
        assert!(twice.status.code() == Some(2) && stderr(&twice).contains(&format!("already, in ärende {number}; give --again")), "{}", stderr(&twice));
        let again = last_line(&ok(kansli(db, d, &["workflow", "start", "aktiva-atgarder", "--again"]))).to_owned();
        assert_ne!(again, number);
        // A handling that brings a step: a step the state refuses registers nothing; one it
        // takes is taken with the handling.
        let note = ["document", "add", &number, "--direction", "upprättad", "--description", "Anteckning om svaren", "--as", "handläggare", "--event"];
        let refused = kansli(db, d, &[&note[..], &["tjansteskrivelse_klar"]].concat());
        assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
        let out = ok(kansli(db, d, &[&note[..], &["sammanstall"]].concat()));
        assert!(out.contains("sammanstall (insamling → sammanstallning)") && last_line(&out) == format!("{number}:1"), "the first handling of the ärende: {out}");
        std::fs::write(d.join("arendet.txt"), "Förvaltningarna har svarat\npå enkäten.\n\nRapporten bifogas.").unwrap();
        let out = kansli(db, d, &["event", "send", &number, "texter_sparade", "--as", "handläggare", "--set-file", "arendet=saknas.txt"]);
        assert!(out.status.code() == Some(2) && stderr(&out).contains("cannot read saknas.txt"), "{}", stderr(&out));
        ok(kansli(db, d, &["event", "send", &number, "texter_sparade", "--as", "handläggare", "--set-file", "arendet=arendet.txt", "--set", "sammanfattning=Alla svarade."]));
        let draft = ok(kansli(db, d, &["case", "draft", &number, "tjansteskrivelse"]));
        assert!(draft.contains("<p>Förvaltningarna har svarat på enkäten.</p>\n<p>Rapporten bifogas.</p>") && draft.contains("<p>Alla svarade.</p>"), "{draft}");
        ok(kansli(db, d, &["event", "send", &number, "tjansteskrivelse_klar", "--as", "handläggare"]));
        // The picture of where the ärende stands, as on the ärende page.
        let svg = ok(kansli(db, d, &["workflow", "graph", "aktiva-atgarder", "--format", "svg", "--case", &number]));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.trim_end().ends_with("</svg>"), "{svg}");
        assert!(svg.contains("<g class=\"tillstand nu\" data-tillstand=\"beredning\">") && svg.matches("(nu)").count() == 1, "{svg}");
        let meeting = last_line(&ok(kansli(db, d, &["meeting", "create", "--organ", "KSAG", "--date", "2026-11-20", "--place", "Rummet"]))).to_owned();
        ok(kansli(db, d, &["meeting", "attend", &meeting, "--chair", "David Åkesson", "--secretary", "Sara Nyqvist"]));
        ok(kansli(db, d, &["meeting", "add", &meeting, &number]));
        let label = last_line(&ok(kansli(db, d, &["meeting", "decide", &meeting, &number, "--att", "att föreslå kommunstyrelsen att godkänna rapporten", "--proposal-to", "KS"]))).to_owned();
        let extract = ok(kansli(db, d, &["extract", &number, &label]));
        assert!(extract.contains(&format!("<p class=\"paragraf\">{label}</p>")) && extract.contains("<td>Kommunstyrelsens arbetsgivarutskott</td>"), "{extract}");
        assert!(extract.contains("<h2>Bakgrund</h2>\n<p>Förvaltningarna har svarat på enkäten.</p>"), "{extract}");
        if cfg!(feature = "pdf") {
            ok(kansli(db, d, &["extract", &number, &label, "--pdf", "utdrag.pdf"]));
            assert!(std::fs::read(d.join("utdrag.pdf")).unwrap().starts_with(b"%PDF-"));
        }
        let out = kansli(db, d, &["extract", &number, "paragraf ett"]);
        assert!(out.status.code() == Some(2) && stderr(&out).contains("KS § 12/26"), "{}", stderr(&out));
        let out = kansli(db, d, &["extract", &number, "KS § 9/26"]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    }

    async fn a_justerat_protocol_refuses_every_change_from_the_command_line(db) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        ok(kansli(db, d, &["org", "import", "--demo"]));
        let number = last_line(&ok(kansli(db, d, &["workflow", "start", "aktiva-atgarder", "--var", "preparing_organ=KSAG"]))).to_owned();
        ok(kansli(db, d, &["event", "send", &number, "sammanstall", "--as", "handläggare"]));
        ok(kansli(db, d, &["event", "send", &number, "texter_sparade", "--as", "handläggare", "--set", "arendet=Alla svarade."]));
        ok(kansli(db, d, &["event", "send", &number, "tjansteskrivelse_klar", "--as", "handläggare"]));
        let ksag = last_line(&ok(kansli(db, d, &["meeting", "create", "--organ", "KSAG", "--date", "2026-11-20", "--place", "Rummet"]))).to_owned();
        ok(kansli(db, d, &["meeting", "add", &ksag, &number]));
        // A decision needs the närvaro: the protocol says who took part.
        let out = kansli(db, d, &["meeting", "decide", &ksag, &number, "--att", "föreslå kommunstyrelsen att godkänna rapporten", "--proposal-to", "KS"]);
        assert!(out.status.code() == Some(2) && stderr(&out).contains("närvaro: record who is present"), "{}", stderr(&out));
        ok(kansli(db, d, &["meeting", "attend", &ksag, "--chair", "David Åkesson", "--secretary", "Sara Nyqvist"]));
        ok(kansli(db, d, &["meeting", "decide", &ksag, &number, "--att", "föreslå kommunstyrelsen att godkänna rapporten", "--proposal-to", "KS"]));
        // One paragraph per ärende and meeting: a decision stands.
        let out = kansli(db, d, &["meeting", "decide", &ksag, &number, "--att", "föreslå något annat", "--proposal-to", "KS"]);
        assert!(out.status.code() == Some(2) && stderr(&out).contains("has its paragraph already, KSAG § 1/26"), "{}", stderr(&out));

        // KS proposes to KF, which the workflow has no step for here: the paragraph stands,
        // the command says the ärende needs a person, and exits 6.
        let ks = last_line(&ok(kansli(db, d, &["meeting", "create", "--organ", "KS", "--date", "2026-12-01", "--place", "Sessionssalen"]))).to_owned();
        ok(kansli(db, d, &["meeting", "attend", &ks, "--chair", "Cecilia Palmgren", "--secretary", "Sara Nyqvist", "--ersattare", "Hampus Kjellberg"]));
        ok(kansli(db, d, &["meeting", "add", &ks, &number]));
        let out = kansli(db, d, &["meeting", "decide", &ks, &number, "--att", "föreslå fullmäktige att godkänna rapporten", "--proposal-to", "KF"]);
        assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
        assert_eq!(last_line(&stdout(&out)), "KS § 1/26");
        assert!(stderr(&out).contains("KS § 1/26 is recorded and stands") && stderr(&out).contains("forslag_beslutat"), "{}", stderr(&out));
        let out = kansli(db, d, &["meeting", "decide", &ks, &number, "--att", "godkänna rapporten"]);
        assert!(out.status.code() == Some(2) && stderr(&out).contains("has its paragraph already, KS § 1/26"), "{}", stderr(&out));
        let information = last_line(&ok(kansli(db, d, &["case", "open", "--series", "KS", "--title", "Information om budgetläget"]))).to_owned();
        ok(kansli(db, d, &["meeting", "add", &ks, &information]));
        let late_vote = last_line(&ok(kansli(db, d, &["case", "open", "--series", "KS", "--title", "Motion om cykelbanor"]))).to_owned();
        ok(kansli(db, d, &["meeting", "add", &ks, &late_vote]));
        // An ärende without a workflow has nothing to move: its decision is simply recorded.
        let out = ok(kansli(db, d, &["meeting", "decide", &ks, &information, "--att", "notera informationen"]));
        assert!(out.contains("KS § 2/26") && out.contains("inget arbetsflöde"), "{out}");

        // An omröstning by an ersättare who does not serve is refused by its field, and the
        // paragraph it would have made is not written.
        let vote = kansli(db, d, &["meeting", "decide", &ks, &late_vote, "--att", "bifalla", "--vote-question", "Ja för bifall, nej för avslag", "--vote", "Hampus Kjellberg=ja"]);
        assert!(vote.status.code() == Some(2) && stderr(&vote).contains("omröstning: Hampus Kjellberg is not a tjänstgörande ledamot"), "{}", stderr(&vote));
        let vote = kansli(db, d, &["meeting", "decide", &ks, &late_vote, "--att", "bifalla", "--vote-question", "Ja eller nej", "--vote", "Eva Ek=kanske"]);
        assert!(vote.status.code() == Some(2) && stderr(&vote).contains("--vote: unknown vote \"kanske\""), "{}", stderr(&vote));
        // A justering in the future is refused; the real one is final.
        let out = kansli(db, d, &["meeting", "justera", &ks, "--justerare", "Eva Ek", "--date", "2099-01-01"]);
        assert!(out.status.code() == Some(2) && stderr(&out).contains("in the future"), "{}", stderr(&out));
        ok(kansli(db, d, &["meeting", "justera", &ks, "--justerare", "Eva Ek", "--justerare", "Olle Ås", "--date", "2026-12-02"]));
        let protocol = ok(kansli(db, d, &["meeting", "protocol", &ks]));
        assert!(protocol.contains("KS § 2/26"), "{protocol}");
        let pdf = cfg!(feature = "pdf").then(|| {
            ok(kansli(db, d, &["meeting", "protocol", &ks, "--pdf", "protokoll.pdf"]));
            std::fs::read(d.join("protokoll.pdf")).unwrap()
        });
        let late = last_line(&ok(kansli(db, d, &["case", "open", "--series", "KS", "--title", "Ett sent ärende"]))).to_owned();
        for args in [
            vec!["meeting", "add", &ks, &late],
            vec!["meeting", "add", &ks, "--title", "Övrig fråga"],
            vec!["meeting", "move", &ks, "2", "--up"],
            vec!["meeting", "attend", &ks, "--chair", "Eva Ek", "--secretary", "Sara Nyqvist"],
            vec!["meeting", "decide", &ks, &information, "--att", "ändra beslutet"],
            vec!["meeting", "inform", &ks, "--title", "Månadsrapport"],
            vec!["meeting", "note", &ks, "--title", "Rättelse", "--text", "Paragraf 1 ska läsas annorlunda."],
            vec!["meeting", "return", &ks, &information],
            vec!["meeting", "postpone", &ks, &information],
            vec!["meeting", "justera", &ks, "--justerare", "Någon Annan", "--date", "2026-12-03"],
        ] {
            let out = kansli(db, d, &args);
            assert!(out.status.code() == Some(2) && stderr(&out).contains("is justerat (2026-12-02); nothing in it can be added, removed or changed"), "{args:?}: {}", stderr(&out));
        }
        assert_eq!(ok(kansli(db, d, &["meeting", "protocol", &ks])), protocol, "the protocol reads as it did");
        // The bevakning: each decision with its justering and the last day for appeal.
        let shown = ok(kansli(db, d, &["case", "show", &number]));
        let line = |label: &str| shown.lines().find(|l| l.trim_start().starts_with(&format!("{label} "))).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(line("KSAG § 1/26"), "KSAG § 1/26 2026-11-20 Kommunstyrelsens arbetsgivarutskott (förslag till KS): ej justerat; ska justeras senast 2026-12-04", "{shown}");
        assert_eq!(line("KS § 1/26"), "KS § 1/26 2026-12-01 Kommunstyrelsen (förslag till KF): justerat 2026-12-02, anslaget 2026-12-02, sista dag för överklagande 2026-12-23", "{shown}");
        if let Some(pdf) = pdf {
            ok(kansli(db, d, &["meeting", "protocol", &ks, "--pdf", "igen.pdf"]));
            assert!(std::fs::read(d.join("igen.pdf")).unwrap() == pdf, "the PDF is the same to the byte");
        }
    }

    async fn the_first_admin_is_made_from_the_command_line_with_the_password_on_stdin(db) {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        ok(kansli(db, d, &["org", "import", "--demo"]));
        let add = |password: &'static str, user: &'static str| {
            let mut child = Command::new(env!("CARGO_BIN_EXE_kansli"))
                .args(["user", "add", user, "--person", "mikael.aro", "--admin"])
                .current_dir(d)
                .env("KANSLI_DATABASE_URL", &db.url)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        };
        let out = add("kort\n", "mikael");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("at least 12"), "{}", stderr(&out));
        let out = add("ett-långt-lösenord\n", "mikael");
        assert!(ok(out).contains("Konto mikael skapat för mikael.aro (administratör)."));
        let out = add("ett-långt-lösenord\n", "mikael");
        assert_eq!(out.status.code(), Some(4), "taken: {}", stderr(&out));
        let list = ok(kansli(db, d, &["user", "list"]));
        assert!(list.contains("mikael") && list.contains("administratör"), "{list}");
        assert!(!list.contains("argon2"), "no hash is shown");
    }
}
