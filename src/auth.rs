//! Credentials for private models: `~/.netrc` (or `NETRC`), `HF_TOKEN` for Hugging Face, and
//! per-host headers from `CARGO_MODELS_AUTH_HEADER_<HOST>`.
//!
//! A credential is attached only to a request whose host is the one it is for, only over https
//! (plain http is allowed to loopback addresses, for tests and local mirrors), and is looked up
//! again for every redirect hop, so a redirect to another host never carries it. Values are
//! never formatted into messages: `Debug` of these types prints no secret.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use url::Url;

/// One machine's login in a netrc file.
#[derive(Clone, PartialEq, Eq)]
pub struct NetrcEntry {
    pub login: String,
    pub password: String,
}

impl fmt::Debug for NetrcEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NetrcEntry {{ login: {:?}, password: <redacted> }}",
            self.login
        )
    }
}

/// A parsed netrc file: `machine` entries and an optional `default`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Netrc {
    pub machines: Vec<(String, NetrcEntry)>,
    pub default: Option<NetrcEntry>,
}

/// A netrc file that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("`{path}`: {message}")]
pub struct NetrcError {
    pub path: String,
    pub message: String,
}

impl Netrc {
    /// Parses netrc text as curl does: whitespace-separated tokens, `#` comments to the end of
    /// a line, double-quoted tokens with `\` escapes, `macdef` bodies skipped to a blank line.
    pub fn parse(text: &str) -> Result<Netrc, String> {
        let tokens = tokenize(text)?;
        let mut netrc = Netrc::default();
        let mut current: Option<(Option<String>, NetrcEntry)> = None;
        let finish = |cur: Option<(Option<String>, NetrcEntry)>, netrc: &mut Netrc| {
            if let Some((machine, entry)) = cur {
                match machine {
                    Some(m) => netrc.machines.push((m.to_ascii_lowercase(), entry)),
                    None => netrc.default = Some(entry),
                }
            }
        };
        let mut it = tokens.into_iter();
        while let Some(tok) = it.next() {
            match tok.as_str() {
                "machine" => {
                    finish(current.take(), &mut netrc);
                    let name = it.next().ok_or("`machine` without a host name")?;
                    current = Some((Some(name), empty_entry()));
                }
                "default" => {
                    finish(current.take(), &mut netrc);
                    current = Some((None, empty_entry()));
                }
                "login" | "password" | "account" => {
                    let value = it.next().ok_or(format!("`{tok}` without a value"))?;
                    let Some((_, entry)) = current.as_mut() else {
                        return Err(format!("`{tok}` before any `machine` or `default`"));
                    };
                    match tok.as_str() {
                        "login" => entry.login = value,
                        "password" => entry.password = value,
                        _ => {}
                    }
                }
                "macdef" => {
                    // The tokenizer already dropped the macro body.
                    it.next();
                }
                other => return Err(format!("unexpected token `{other}`")),
            }
        }
        finish(current.take(), &mut netrc);
        Ok(netrc)
    }

    pub fn load(path: &Path) -> Result<Option<Netrc>, NetrcError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(NetrcError {
                    path: path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        Netrc::parse(&text).map(Some).map_err(|message| NetrcError {
            path: path.display().to_string(),
            message,
        })
    }

    /// The entry for `host`: the first matching `machine`, else `default`.
    pub fn lookup(&self, host: &str) -> Option<&NetrcEntry> {
        let host = host.to_ascii_lowercase();
        self.machines
            .iter()
            .find(|(m, _)| *m == host)
            .map(|(_, e)| e)
            .or(self.default.as_ref())
    }
}

fn empty_entry() -> NetrcEntry {
    NetrcEntry {
        login: String::new(),
        password: String::new(),
    }
}

fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut chars = line.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let Some(&c) = chars.peek() else { break };
            if c == '#' {
                break;
            }
            let mut tok = String::new();
            if c == '"' {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => tok.push(chars.next().ok_or("unfinished escape")?),
                        c => tok.push(c),
                    }
                }
                if !closed {
                    return Err("unclosed quoted token".into());
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    tok.push(c);
                    chars.next();
                }
            }
            let is_macdef = tok == "macdef";
            tokens.push(tok);
            if is_macdef {
                // The name follows on this line; the body runs to the next empty line.
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                tokens.push(chars.by_ref().collect());
                for body in lines.by_ref() {
                    if body.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
        }
    }
    Ok(tokens)
}

/// Every credential source, resolved before work starts.
#[derive(Clone, Default)]
pub struct Credentials {
    pub netrc: Option<Netrc>,
    /// `HF_TOKEN`, sent as a bearer token to `hf_hosts` only.
    pub hf_token: Option<String>,
    /// `huggingface.co`, `hf.co`, and the host of `HF_ENDPOINT` when set.
    pub hf_hosts: Vec<String>,
    /// (host, header name, value), from `CARGO_MODELS_AUTH_HEADER_<HOST>`.
    pub headers: Vec<(String, String, String)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field(
                "netrc_machines",
                &self.netrc.as_ref().map(|n| n.machines.len()),
            )
            .field("hf_token", &self.hf_token.as_ref().map(|_| "<redacted>"))
            .field("hf_hosts", &self.hf_hosts)
            .field(
                "header_hosts",
                &self.headers.iter().map(|h| &h.0).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A credential to attach to one request.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP Basic, from netrc.
    Basic { login: String, password: String },
    /// `Authorization: Bearer`, from `HF_TOKEN`.
    Bearer(String),
    /// Any header, from `CARGO_MODELS_AUTH_HEADER_<HOST>`.
    Header { name: String, value: String },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Basic { login, .. } => write!(f, "Basic({login}:<redacted>)"),
            Auth::Bearer(_) => write!(f, "Bearer(<redacted>)"),
            Auth::Header { name, .. } => write!(f, "Header({name}: <redacted>)"),
        }
    }
}

impl Credentials {
    /// Builds the per-host headers from environment pairs `CARGO_MODELS_AUTH_HEADER_<HOST>` =
    /// `Name: value`, where `<HOST>` is the host upper-cased with every other character than
    /// letters and digits as `_` (`models.example.com` → `MODELS_EXAMPLE_COM`).
    pub fn header_from_env(var: &str, value: &str) -> Option<(String, String, String)> {
        let host = var.strip_prefix("CARGO_MODELS_AUTH_HEADER_")?;
        let (name, value) = value.split_once(':')?;
        Some((
            host.to_string(),
            name.trim().to_string(),
            value.trim().to_string(),
        ))
    }

    /// The headers to send with a request to `url`: none unless it is https (or plain http to a
    /// loopback address).
    pub fn for_url(&self, url: &Url) -> Vec<Auth> {
        self.for_hop(url, true)
    }

    /// As [`Credentials::for_url`]; `first_host` is false on a redirect hop to another host
    /// than the one asked for, where a netrc `default` entry (meant for the hosts the user
    /// named) is not sent.
    pub fn for_hop(&self, url: &Url, first_host: bool) -> Vec<Auth> {
        let Some(host) = url.host_str() else {
            return Vec::new();
        };
        if !may_send_credentials(url) {
            return Vec::new();
        }
        let host = host.to_ascii_lowercase();
        let env_key = env_host(&host);
        let mut out: Vec<Auth> = self
            .headers
            .iter()
            .filter(|(h, _, _)| *h == env_key)
            .map(|(_, name, value)| Auth::Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect();
        let has_authorization = out
            .iter()
            .any(|a| matches!(a, Auth::Header { name, .. } if name.eq_ignore_ascii_case("authorization")));
        if has_authorization {
            return out;
        }
        if let Some(token) = &self.hf_token
            && self.hf_hosts.contains(&host)
        {
            out.push(Auth::Bearer(token.clone()));
        } else if let Some(entry) = self
            .netrc
            .as_ref()
            .and_then(|n| n.lookup(&host))
            .filter(|e| {
                first_host
                    || self
                        .netrc
                        .as_ref()
                        .is_some_and(|n| n.default.as_ref() != Some(*e))
            })
        {
            out.push(Auth::Basic {
                login: entry.login.clone(),
                password: entry.password.clone(),
            });
        }
        out
    }
}

/// `<HOST>` of `CARGO_MODELS_AUTH_HEADER_<HOST>` for a host name.
pub fn env_host(host: &str) -> String {
    host.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Credentials go over https only, or plain http to a loopback address (tests, local mirrors).
pub fn may_send_credentials(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A URL as it may be printed: without the password of its userinfo.
pub fn redact_url(url: &Url) -> String {
    if url.password().is_some() {
        let mut u = url.clone();
        let _ = u.set_password(Some("****"));
        u.to_string()
    } else {
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(login: &str, password: &str) -> NetrcEntry {
        NetrcEntry {
            login: login.into(),
            password: password.into(),
        }
    }

    #[test]
    fn netrc_machines_default_comments_and_quotes() {
        let text = r#"
# a comment line
machine models.example.com login alice password "s3cret with spaces" # trailing comment
machine Other.Example.com
  login bob
  password "quote\"inside"
  account ignored
macdef init
cd /pub
echo hi

default login anon password "anon@"
"#;
        let n = Netrc::parse(text).unwrap();
        assert_eq!(
            n.lookup("models.example.com"),
            Some(&entry("alice", "s3cret with spaces"))
        );
        assert_eq!(
            n.lookup("other.example.com"),
            Some(&entry("bob", "quote\"inside"))
        );
        assert_eq!(n.lookup("unknown.example"), Some(&entry("anon", "anon@")));
    }

    #[test]
    fn netrc_without_default_matches_only_its_machines() {
        let n = Netrc::parse("machine a login x password y").unwrap();
        assert!(n.lookup("b").is_none());
        assert!(Netrc::parse("login x").is_err());
        assert!(Netrc::parse("machine a password \"open").is_err());
    }

    #[test]
    fn credentials_go_only_to_their_host_over_https() {
        let creds = Credentials {
            netrc: Some(Netrc::parse("machine private.example login u password p").unwrap()),
            hf_token: Some("hf_abc".into()),
            hf_hosts: vec!["huggingface.co".into()],
            headers: vec![
                Credentials::header_from_env(
                    "CARGO_MODELS_AUTH_HEADER_MIRROR_EXAMPLE",
                    "X-Api-Key: k1",
                )
                .unwrap(),
            ],
        };
        let get = |u: &str| creds.for_url(&Url::parse(u).unwrap());
        let basic = Auth::Basic {
            login: "u".into(),
            password: "p".into(),
        };
        assert_eq!(get("https://private.example/m"), [basic]);
        assert_eq!(get("http://127.0.0.1:8/m"), []);
        assert!(
            get("http://private.example/m").is_empty(),
            "never over plain http"
        );
        assert_eq!(
            get("https://huggingface.co/x"),
            [Auth::Bearer("hf_abc".into())]
        );
        assert!(get("https://cdn-lfs.huggingface.co/x").is_empty());
        let key = Auth::Header {
            name: "X-Api-Key".into(),
            value: "k1".into(),
        };
        assert_eq!(get("https://mirror.example/m"), std::slice::from_ref(&key));
        assert!(get("https://elsewhere.example/m").is_empty());
        assert!(!format!("{:?}", get("https://huggingface.co/x")).contains("hf_abc"));
        assert!(!format!("{key:?}").contains("k1"));
        assert!(format!("{creds:?}").contains("<redacted>"));
        assert!(!format!("{creds:?}").contains("hf_abc"));
    }

    #[test]
    fn urls_are_printed_without_passwords() {
        let u = Url::parse("https://user:pw@example.org/m").unwrap();
        assert_eq!(redact_url(&u), "https://user:****@example.org/m");
    }
}
