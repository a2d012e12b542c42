//! The MIME structure of a model: which multiparts it needs and in which order the parts go.

use crate::body::normalize_text;
use crate::header::{Token, ascii_fallback, parameter};
use crate::model::{Attachment, Message};

/// Longest ASCII fallback file name kept whole.
const FALLBACK_MAX: usize = 120;

/// One node of the MIME tree.
#[derive(Debug)]
pub(crate) enum Node<'m> {
    /// A text part (`text/{subtype}; charset=utf-8`), normalized, with further header fields.
    Text {
        subtype: &'static str,
        text: String,
        extra: Vec<(&'static str, Vec<Token>)>,
    },
    /// An attachment or inline part read from its source.
    File {
        part: &'m Attachment,
        disposition: &'static str,
    },
    /// `multipart/{kind}`; `root_type` is the `type` parameter of multipart/related.
    Multi {
        kind: &'static str,
        root_type: Option<&'static str>,
        parts: Vec<Node<'m>>,
    },
}

/// Escapes text for HTML.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// A signature without the `-- ` delimiter line it may already start with (one is added).
fn signature_body(sig: &str) -> &str {
    let (first, rest) = sig.split_once('\n').unwrap_or((sig, ""));
    if first.trim_end() == "--" { rest } else { sig }
}

fn html_with_signature(html: &str, signature: Option<&str>) -> String {
    let Some(sig) = signature.map(signature_body) else {
        return html.to_owned();
    };
    let lines: Vec<String> = normalize_text(sig).lines().map(escape_html).collect();
    let block = format!(
        "<div class=\"signature\">-- <br>{}</div>",
        lines.join("<br>")
    );
    match html.to_ascii_lowercase().rfind("</body>") {
        Some(at) => format!("{}{block}\n{}", &html[..at], &html[at..]),
        None => format!("{html}\n{block}"),
    }
}

fn text_with_signature(text: Option<&str>, signature: Option<&str>) -> String {
    let mut out = text.unwrap_or("").to_owned();
    if let Some(sig) = signature.map(signature_body) {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("-- \n");
        out.push_str(sig);
    }
    normalize_text(&out)
}

/// The tree for a message: text, text+HTML alternative, related inline parts, mixed attachments.
pub(crate) fn build_tree<'m>(message: &'m Message) -> Node<'m> {
    let signature = message.signature.as_deref();
    let text_node = (message.text.is_some() || message.html.is_none()).then(|| Node::Text {
        subtype: "plain",
        text: text_with_signature(message.text.as_deref(), signature),
        extra: Vec::new(),
    });
    let html_node = message.html.as_deref().map(|html| Node::Text {
        subtype: "html",
        text: normalize_text(&html_with_signature(html, signature)),
        extra: Vec::new(),
    });
    let inline = || {
        message.inline.iter().map(|part| Node::File {
            part,
            disposition: "inline",
        })
    };
    let related = |root: Node<'m>, root_type| -> Node<'m> {
        if message.inline.is_empty() {
            return root;
        }
        let mut parts = vec![root];
        parts.extend(inline());
        Node::Multi {
            kind: "related",
            root_type: Some(root_type),
            parts,
        }
    };
    let main = match (text_node, html_node) {
        (Some(text), Some(html)) => Node::Multi {
            kind: "alternative",
            root_type: None,
            parts: vec![text, related(html, "text/html")],
        },
        (Some(text), None) => related(text, "text/plain"),
        (None, Some(html)) => related(html, "text/html"),
        (None, None) => unreachable!("a text node is made whenever there is no HTML"),
    };
    let mut extras: Vec<Node<'_>> = message
        .attachments
        .iter()
        .map(|part| Node::File {
            part,
            disposition: "attachment",
        })
        .collect();
    if let Some(vcard) = &message.vcard {
        let mut cd = vec![Token::spaced("attachment")];
        cd.extend(parameter("filename", "contact.vcf"));
        extras.push(Node::Text {
            subtype: "vcard",
            text: normalize_text(vcard),
            extra: vec![("Content-Disposition", cd)],
        });
    }
    if extras.is_empty() {
        return main;
    }
    let mut parts = vec![main];
    parts.extend(extras);
    Node::Multi {
        kind: "mixed",
        root_type: None,
        parts,
    }
}

/// Tokens of a simple Content-Type value like `text/plain; charset=utf-8`.
pub(crate) fn content_type_tokens(value: &str) -> Vec<Token> {
    value.split(' ').map(Token::spaced).collect()
}

/// The Content-Type (with an ASCII fallback `name`) and the Content-Disposition (with the
/// RFC 2231 `filename`) of an attachment or inline part.
pub(crate) fn file_headers(part: &Attachment, disposition: &str) -> (Vec<Token>, Vec<Token>) {
    let mut ct = vec![Token::spaced(part.content_type.to_ascii_lowercase())];
    let mut cd = vec![Token::spaced(disposition)];
    if let Some(name) = part.file_name.as_deref().filter(|n| !n.is_empty()) {
        let mut fallback = ascii_fallback(name);
        if fallback.len() > FALLBACK_MAX {
            let ext = fallback
                .rfind('.')
                .map(|i| fallback[i..].to_owned())
                .unwrap_or_default();
            let keep = FALLBACK_MAX.saturating_sub(ext.len().min(20));
            fallback = format!("{}{}", &fallback[..keep], &ext[..ext.len().min(20)]);
        }
        ct.push(Token::glued(";"));
        ct.push(Token::spaced(format!("name=\"{fallback}\"")));
        cd.extend(parameter("filename", name));
    }
    (ct, cd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_that_brings_its_own_delimiter_gets_only_one() {
        for sig in [
            "-- \nJo Example",
            "--\nJo Example",
            "-- \r\nJo Example",
            "Jo Example",
        ] {
            assert_eq!(
                text_with_signature(Some("Hi"), Some(sig)),
                "Hi\n-- \nJo Example\n"
            );
            let html = html_with_signature("<p>Hi</p>", Some(sig));
            assert_eq!(html.matches("-- <br>").count(), 1, "{html}");
            assert!(
                html.contains("Jo Example") && !html.contains("--<br>"),
                "{html}"
            );
        }
    }

    fn shape(node: &Node<'_>) -> String {
        match node {
            Node::Text { subtype, .. } => subtype.to_string(),
            Node::File { disposition, .. } => disposition.to_string(),
            Node::Multi { kind, parts, .. } => {
                let inner: Vec<String> = parts.iter().map(shape).collect();
                format!("{kind}[{}]", inner.join(","))
            }
        }
    }

    #[test]
    fn structure_follows_the_content() {
        let mut m = Message {
            text: Some("t".into()),
            ..Message::default()
        };
        assert_eq!(shape(&build_tree(&m)), "plain");
        m.html = Some("<p>h</p>".into());
        assert_eq!(shape(&build_tree(&m)), "alternative[plain,html]");
        let mut logo = Attachment::from_bytes("logo.png", "image/png", vec![1, 2]);
        logo.content_id = Some("logo@x".into());
        m.inline.push(logo);
        assert_eq!(
            shape(&build_tree(&m)),
            "alternative[plain,related[html,inline]]"
        );
        m.attachments
            .push(Attachment::from_bytes("a.pdf", "application/pdf", vec![]));
        m.vcard = Some("BEGIN:VCARD\nEND:VCARD".into());
        assert_eq!(
            shape(&build_tree(&m)),
            "mixed[alternative[plain,related[html,inline]],attachment,vcard]"
        );
        let html_only = Message {
            html: Some("<p>h</p>".into()),
            ..Message::default()
        };
        assert_eq!(shape(&build_tree(&html_only)), "html");
        assert_eq!(shape(&build_tree(&Message::default())), "plain");
    }

    #[test]
    fn signatures_go_under_the_text_and_into_the_html_body() {
        let text = text_with_signature(Some("Hello"), Some("Jo <jo@x>"));
        assert_eq!(text, "Hello\n-- \nJo <jo@x>\n");
        let html = html_with_signature("<html><body><p>Hi</p></BODY></html>", Some("Jo <jo@x>"));
        assert_eq!(
            html,
            "<html><body><p>Hi</p><div class=\"signature\">-- <br>Jo &lt;jo@x&gt;</div>\n</BODY></html>"
        );
    }
}
