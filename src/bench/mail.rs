//! `kansli bench mail`: messages rendered and queued per second (one transaction each, as a
//! step queues them), and delivered per second by the dispatcher to an SMTP sink on loopback,
//! beside the sink's own acceptance rate measured with a bare lettre client.
//!
//! Start a sink first, for example aiosmtpd:
//! `python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Sink`.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use serde_json::json;

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::mail::{Address, Mailer, OutgoingMessage, SmtpMailer, SmtpSecurity, SmtpSettings};
use crate::render::{MessageContext, Renderer};
use crate::service::{Kansli, Postman};
use crate::store::{NewOutbox, OutboxStatus, Store};

/// `kansli bench mail`
#[derive(Debug, clap::Args)]
pub struct MailArgs {
    /// Messages per run.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// The SMTP sink, HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:2525")]
    pub smtp: String,
    /// Dispatchers (and lettre connections) sending at once.
    #[arg(long, default_value_t = 8)]
    pub senders: usize,
    /// Also run on PostgreSQL: a server URL; a scratch database is created on it and dropped.
    #[arg(long, env = "TEST_DATABASE_URL", value_name = "URL")]
    pub postgres: Option<String>,
}

pub(super) async fn run(args: MailArgs, settings: &Settings) -> anyhow::Result<()> {
    let (host, port) = args
        .smtp
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| anyhow::anyhow!("--smtp {:?}: write HOST:PORT", args.smtp))?;
    let smtp = SmtpSettings {
        host,
        port,
        security: SmtpSecurity::None,
        pool_size: args.senders as u32,
        timeout_seconds: 10,
        ..Default::default()
    };
    let renderer = Arc::new(
        Renderer::load(&settings.workflows.templates)
            .map_err(|e| anyhow::anyhow!("templates: {e:?}"))?,
    );
    println!(
        "{:<9} {:>9} {:>12} {:>12} {:>14} {:>6}",
        "backend", "messages", "enqueued/s", "delivered/s", "bare lettre/s", "ratio"
    );
    let bare = bare_lettre(&smtp, args.messages, args.senders).await?;
    let (args, smtp, renderer) = (&args, &smtp, &renderer);
    super::on_backends(
        args.postgres.as_deref(),
        &[args.senders],
        |name, url, _| async move { measure(name, &url, args, smtp, renderer, bare).await },
    )
    .await
}

async fn measure(
    name: &str,
    url: &str,
    args: &MailArgs,
    smtp: &SmtpSettings,
    renderer: &Arc<Renderer>,
    bare: f64,
) -> anyhow::Result<()> {
    let store = Store::connect(url, args.senders as u32 + 2).await?;
    store.migrate().await?;
    let kansli = Kansli::new(store.clone(), Arc::new(SystemClock));

    let started = Instant::now();
    for i in 0..args.messages {
        let context = MessageContext {
            recipient_name: format!("Mottagare {i}"),
            ..MessageContext::example()
        };
        let rendered = renderer.email("enkat-inbjudan", &context)?;
        let to = Address {
            name: context.recipient_name.clone(),
            email: format!("mottagare{i}@norrvika.example"),
        };
        let tx = store.begin().await?;
        tx.insert_outbox(NewOutbox {
            instance_id: None,
            case_id: None,
            template: "enkat-inbjudan".into(),
            recipients: json!([to]).to_string(),
            context: serde_json::to_string(&context)?,
            status: OutboxStatus::Pending,
            at: Utc::now(),
            message_id: Some(format!(
                "<bench-{i}-{:x}.kansli@norrvika.example>",
                rand::random::<u64>()
            )),
            sender: Some(
                json!({"name": "Norrvika kommun", "email": "kansli@norrvika.example"}).to_string(),
            ),
            reply_to: None,
            recipient_email: Some(to.email.clone()),
            subject: Some(rendered.subject),
            text_body: Some(rendered.text),
            html_body: Some(rendered.html),
            attachments: Some("[]".into()),
        })
        .await?;
        tx.commit().await?;
    }
    let enqueued = args.messages as f64 / started.elapsed().as_secs_f64();

    let mailer: Arc<dyn Mailer> = Arc::new(SmtpMailer::new(smtp)?);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..args.senders {
        let postman = Postman::new(kansli.clone(), mailer.clone(), None, format!("bench-{n}"));
        tasks.push(tokio::spawn(
            async move { postman.dispatch_all_pending().await },
        ));
    }
    let mut delivered_count = 0;
    for t in tasks {
        delivered_count += t.await??;
    }
    let delivered = delivered_count as f64 / started.elapsed().as_secs_f64();
    let sent = store
        .list_outbox(&crate::store::OutboxFilter {
            status: Some(crate::store::OutboxStatus::Sent),
            ..Default::default()
        })
        .await?
        .len();
    anyhow::ensure!(
        sent == args.messages,
        "{sent} of {} messages were sent",
        args.messages
    );
    println!(
        "{name:<9} {:>9} {enqueued:>12.0} {delivered:>12.0} {bare:>14.0} {:>5.0}%",
        args.messages,
        100.0 * delivered / bare
    );
    store.close().await?;
    Ok(())
}

/// The sink's own rate: the same messages sent by lettre alone, `senders` at a time.
async fn bare_lettre(smtp: &SmtpSettings, messages: usize, senders: usize) -> anyhow::Result<f64> {
    let mailer = Arc::new(SmtpMailer::new(smtp)?);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..senders {
        let mailer = mailer.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = s;
            while i < messages {
                let message = OutgoingMessage {
                    message_id: format!("<bare-{i}.kansli@norrvika.example>"),
                    from: Address {
                        name: "Norrvika kommun".into(),
                        email: "kansli@norrvika.example".into(),
                    },
                    reply_to: None,
                    to: Address {
                        name: String::new(),
                        email: format!("mottagare{i}@norrvika.example"),
                    },
                    subject: "Uppföljning av aktiva åtgärder".into(),
                    text: "Hej!".into(),
                    html: "<p>Hej!</p>".into(),
                    attachments: Vec::new(),
                };
                mailer
                    .send(&message)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                i += senders;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(messages as f64 / started.elapsed().as_secs_f64())
}
