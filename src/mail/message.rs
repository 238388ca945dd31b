//! Turning an [`OutgoingMessage`] into a MIME message: text and HTML as alternatives, files as
//! attachments, UTF-8 throughout so å, ä and ö survive every hop.

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart};

use super::{Address, MailError, OutgoingMessage};

fn mailbox(address: &Address) -> Result<Mailbox, MailError> {
    let email = address
        .email
        .parse()
        .map_err(|e| MailError::Permanent(format!("bad address {}: {e}", address.email)))?;
    // A display name is one line: control characters would break the header (and lettre
    // refuses them by panicking), so they become spaces here, whatever let them in.
    let name: String = address
        .name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let name = (!name.trim().is_empty()).then(|| name.trim().to_owned());
    Ok(Mailbox::new(name, email))
}

/// Builds the MIME message.
pub fn to_lettre(message: &OutgoingMessage) -> Result<Message, MailError> {
    let mut builder = Message::builder()
        .message_id(Some(message.message_id.clone()))
        .from(mailbox(&message.from)?)
        .to(mailbox(&message.to)?)
        .subject(message.subject.clone());
    if let Some(reply_to) = &message.reply_to {
        builder = builder.reply_to(mailbox(reply_to)?);
    }
    let body = MultiPart::alternative_plain_html(message.text.clone(), message.html.clone());
    let built = if message.attachments.is_empty() {
        builder.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for a in &message.attachments {
            let content_type = ContentType::parse(&a.media_type)
                .map_err(|e| MailError::Permanent(format!("attachment {}: {e}", a.name)))?;
            mixed = mixed.singlepart(
                LettreAttachment::new(a.name.clone()).body(a.content.clone(), content_type),
            );
        }
        builder.multipart(mixed)
    };
    built.map_err(|e| MailError::Permanent(format!("cannot build the message: {e}")))
}
