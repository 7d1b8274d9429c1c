//! A fake Discord on 127.0.0.1 for end-to-end tests of the real serenity client.
//!
//! REST (axum) records every call (method, path, JSON body) and answers like Discord; programmable
//! faults make the next matching calls fail. The gateway (tokio-tungstenite) speaks HELLO,
//! IDENTIFY → READY, heartbeats, RESUME → RESUMED, and lets tests dispatch events, close the
//! connection with a code, drop it, or send RECONNECT. It can also go dark, as a gateway that
//! half-fails does: heartbeats go unanswered and new connections are accepted but never get the
//! WebSocket handshake; or only one shard's connection can. `GET /api/v10/gateway` returns its
//! URL.
//!
//! Shared by the integration tests and `benches/discord.rs` (included there with `#[path]`).

#![allow(dead_code, clippy::missing_panics_doc)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The application id (also the bot's user id, as on Discord).
pub const APP_ID: u64 = 1_100_000_000_000_000_001;
/// The bot's user id.
pub const BOT_ID: u64 = APP_ID;
/// The test guild.
pub const GUILD_ID: u64 = 1_200_000_000_000_000_001;
/// A guild text channel.
pub const CHANNEL_ID: u64 = 1_300_000_000_000_000_001;
/// The DM channel between the bot and [`USER_ID`].
pub const DM_CHANNEL_ID: u64 = 1_300_000_000_000_000_002;
/// A human user.
pub const USER_ID: u64 = 1_400_000_000_000_000_001;
/// A group DM between people, where the bot is not a member (reachable by a user install).
pub const GROUP_DM_ID: u64 = 1_300_000_000_000_000_003;
/// A server the bot is not in (reachable by a user install).
pub const OTHER_GUILD_ID: u64 = 1_200_000_000_000_000_002;
/// A channel of [`OTHER_GUILD_ID`].
pub const OTHER_CHANNEL_ID: u64 = 1_300_000_000_000_000_004;
/// Another human user.
pub const OTHER_USER_ID: u64 = 1_400_000_000_000_000_003;
/// Another bot.
pub const OTHER_BOT_ID: u64 = 1_400_000_000_000_000_002;
/// The token the fake expects.
pub const TOKEN: &str = "fake-token.for-tests";

/// One recorded REST call.
#[derive(Debug, Clone)]
pub struct Call {
    /// HTTP method.
    pub method: String,
    /// Path without the query, such as `/api/v10/channels/1/messages`.
    pub path: String,
    /// The JSON body, or `null`.
    pub body: Value,
    /// The `Authorization` header was `Bot <TOKEN>`.
    pub authorized: bool,
    /// When the fake received it.
    pub at: std::time::Instant,
    /// Which REST front (listener) received it: 0 unless the fake has several.
    pub front: usize,
}

/// A message the fake created (a repeat with the same nonce inside the window creates none).
#[derive(Debug, Clone)]
pub struct Created {
    /// The channel.
    pub channel: String,
    /// The nonce, if any.
    pub nonce: Option<String>,
    /// The REST front that created it.
    pub front: usize,
    /// When.
    pub at: std::time::Instant,
}

/// Random failures of matching calls, like a Discord under load: `percent` of them fail, half
/// with 429 and half with 503; a quarter of the 503s come after the message was created (the
/// answer is lost, as a gateway timeout would lose it).
#[derive(Debug, Clone)]
pub struct Chaos {
    /// Calls whose path contains this.
    pub path_part: String,
    /// How many in a hundred fail.
    pub percent: u64,
    /// The random state (xorshift), for repeatable runs.
    pub seed: u64,
}

impl Chaos {
    fn next(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChaosOutcome {
    Pass,
    RateLimited,
    Unavailable,
    CreatedButLost,
}

impl Call {
    /// Whether this is `method` on a path that contains `path_part`.
    pub fn is(&self, method: &str, path_part: &str) -> bool {
        self.method == method && self.path.contains(path_part)
    }
}

/// A programmed failure.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with this `retry_after` in seconds (body and header).
    RateLimited(f64),
    /// This status with a Discord error body carrying `code`.
    Status(u16, i64),
}

struct FaultRule {
    method: String,
    path_part: String,
    remaining: usize,
    fault: Fault,
}

enum GatewayCommand {
    Dispatch(String, Value),
    Close(u16),
    Drop,
    Reconnect,
}

/// Counters of the gateway's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// WebSocket connections accepted.
    pub connections: u64,
    /// IDENTIFY payloads received.
    pub identifies: u64,
    /// RESUME payloads received.
    pub resumes: u64,
    /// Heartbeats received.
    pub heartbeats: u64,
    /// Connections that ended.
    pub disconnects: u64,
    /// Close frames with code 1000 (a clean goodbye) received from the client.
    pub clean_closes: u64,
    /// Connections accepted while dark and left hanging before the WebSocket handshake.
    pub stalled: u64,
    /// Heartbeats left unanswered while dark.
    pub unanswered_heartbeats: u64,
    /// The gateway intents of the last IDENTIFY.
    pub intents: u64,
}

struct Shared {
    calls: Mutex<Vec<Call>>,
    created: Mutex<Vec<Created>>,
    by_nonce: Mutex<HashMap<(String, String), (u64, std::time::Instant)>>,
    deduped: AtomicU64,
    nonce_window: Duration,
    chaos: Mutex<Option<Chaos>>,
    identify_log: Mutex<Vec<(u32, u32, std::time::Instant)>>,
    shard_gateways: Mutex<HashMap<u32, mpsc::UnboundedSender<GatewayCommand>>>,
    gateway_bot: Mutex<(u32, u32)>,
    faults: Mutex<Vec<FaultRule>>,
    gateway: Mutex<Option<mpsc::UnboundedSender<GatewayCommand>>>,
    stats: Mutex<GatewayStats>,
    seq: AtomicU64,
    next_id: AtomicU64,
    ws_url: String,
    heartbeat_interval_ms: u64,
    /// While set, heartbeats get no ACK and new connections stall before the handshake.
    dark: std::sync::atomic::AtomicBool,
    /// Shards whose heartbeats get no ACK; while any is, new connections stall too.
    dark_shards: Mutex<HashSet<u32>>,
    /// Stalled connections, held open until the fake is dropped.
    stalled: Mutex<Vec<TcpStream>>,
    /// Bumped on every change, so waiters can re-check.
    version: watch::Sender<u64>,
}

impl Shared {
    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }
}

/// The running fake. Dropping it stops its listeners.
pub struct FakeDiscord {
    /// `http://127.0.0.1:PORT`, the value for `DISCORD_API_BASE`.
    pub base: String,
    /// Every REST front's base (the first is `base`): one per bot process, sharing one state,
    /// so a test can tell which process made a call.
    pub fronts: Vec<String>,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FakeDiscord {
    /// Starts REST and gateway listeners on loopback ports chosen by the OS.
    pub async fn start() -> FakeDiscord {
        FakeDiscord::start_with_heartbeat(41_250).await
    }

    /// Like [`FakeDiscord::start`], asking clients to heartbeat every `interval_ms`.
    pub async fn start_with_heartbeat(interval_ms: u64) -> FakeDiscord {
        FakeDiscord::start_with_fronts(1, interval_ms).await
    }

    /// A fake with `fronts` REST listeners sharing one state and one gateway.
    pub async fn start_with_fronts(fronts: usize, interval_ms: u64) -> FakeDiscord {
        let mut rests = Vec::new();
        for _ in 0..fronts.max(1) {
            rests.push(TcpListener::bind("127.0.0.1:0").await.expect("bind REST"));
        }
        let gateway = TcpListener::bind("127.0.0.1:0").await.expect("bind gateway");
        let bases: Vec<String> = rests.iter().map(|rest| format!("http://{}", rest.local_addr().unwrap())).collect();
        let base = bases[0].clone();
        let ws_url = format!("ws://{}", gateway.local_addr().unwrap());
        let shared = Arc::new(Shared {
            created: Mutex::new(Vec::new()),
            by_nonce: Mutex::new(HashMap::new()),
            deduped: AtomicU64::new(0),
            nonce_window: Duration::from_secs(180),
            chaos: Mutex::new(None),
            identify_log: Mutex::new(Vec::new()),
            shard_gateways: Mutex::new(HashMap::new()),
            gateway_bot: Mutex::new((1, 1)),
            calls: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            gateway: Mutex::new(None),
            stats: Mutex::new(GatewayStats::default()),
            seq: AtomicU64::new(0),
            next_id: AtomicU64::new(1_500_000_000_000_000_000),
            ws_url,
            heartbeat_interval_ms: interval_ms,
            dark: std::sync::atomic::AtomicBool::new(false),
            dark_shards: Mutex::new(HashSet::new()),
            stalled: Mutex::new(Vec::new()),
            version: watch::channel(0).0,
        });
        let mut tasks = Vec::new();
        for (front, rest) in rests.into_iter().enumerate() {
            let app = Router::new().fallback(rest_handler).with_state((Arc::clone(&shared), front));
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(rest, app).await;
            }));
        }
        let gateway_shared = Arc::clone(&shared);
        let gateway_task = tokio::spawn(async move {
            while let Ok((stream, _)) = gateway.accept().await {
                if gateway_shared.dark.load(Ordering::SeqCst) || !gateway_shared.dark_shards.lock().unwrap().is_empty()
                {
                    // Accepted, then never answered: the client waits for the handshake.
                    gateway_shared.stalled.lock().unwrap().push(stream);
                    gateway_shared.stats.lock().unwrap().stalled += 1;
                    gateway_shared.bump();
                    continue;
                }
                tokio::spawn(connection(stream, Arc::clone(&gateway_shared)));
            }
        });
        tasks.push(gateway_task);
        FakeDiscord { base, fronts: bases, shared, tasks }
    }

    /// Makes `GET /gateway/bot` recommend `shards` with this `max_concurrency`.
    pub fn set_gateway_bot(&self, shards: u32, max_concurrency: u32) {
        *self.shared.gateway_bot.lock().unwrap() = (shards, max_concurrency);
    }

    /// Turns random failures on (or off, with `None`).
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        *self.shared.chaos.lock().unwrap() = chaos;
    }

    /// The messages created, in order.
    pub fn created(&self) -> Vec<Created> {
        self.shared.created.lock().unwrap().clone()
    }

    /// How many messages were created.
    pub fn created_count(&self) -> usize {
        self.shared.created.lock().unwrap().len()
    }

    /// How many posts repeated a nonce inside the window and so created nothing.
    pub fn deduped(&self) -> u64 {
        self.shared.deduped.load(Ordering::Relaxed)
    }

    /// Every IDENTIFY: shard id, shard count, when.
    pub fn identifies(&self) -> Vec<(u32, u32, std::time::Instant)> {
        self.shared.identify_log.lock().unwrap().clone()
    }

    /// Sends a dispatch event on the connection of shard `shard`.
    pub fn dispatch_to_shard(&self, shard: u32, event: &str, data: Value) {
        let sender = self.shared.shard_gateways.lock().unwrap().get(&shard).cloned().expect("no such shard connected");
        assert!(sender.send(GatewayCommand::Dispatch(event.to_owned(), data)).is_ok(), "shard connection gone");
    }

    /// Shards with a live connection.
    pub fn connected_shards(&self) -> Vec<u32> {
        let mut shards: Vec<u32> = self.shared.shard_gateways.lock().unwrap().keys().copied().collect();
        shards.sort_unstable();
        shards
    }

    /// Every REST call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// REST calls that match `method` and contain `path_part`.
    pub fn calls_to(&self, method: &str, path_part: &str) -> Vec<Call> {
        self.calls().into_iter().filter(|call| call.is(method, path_part)).collect()
    }

    /// How many REST calls match `method` and contain `path_part` (without copying them).
    pub fn count(&self, method: &str, path_part: &str) -> usize {
        self.shared.calls.lock().unwrap().iter().filter(|call| call.is(method, path_part)).count()
    }

    /// The last REST call that matches, if any.
    pub fn last_call(&self, method: &str, path_part: &str) -> Option<Call> {
        self.shared.calls.lock().unwrap().iter().rev().find(|call| call.is(method, path_part)).cloned()
    }

    /// Gateway counters.
    pub fn stats(&self) -> GatewayStats {
        *self.shared.stats.lock().unwrap()
    }

    /// Waits (at most `limit`) until `check` holds, re-checking on every change.
    pub async fn wait_until(&self, limit: Duration, what: &str, mut check: impl FnMut(&FakeDiscord) -> bool) {
        let mut version = self.shared.version.subscribe();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if check(self) {
                return;
            }
            let changed = tokio::time::timeout_at(deadline, version.changed()).await;
            if !matches!(changed, Ok(Ok(()))) {
                assert!(
                    check(self),
                    "timed out waiting for {what}; stats {:?}; calls {:#?}",
                    self.stats(),
                    self.calls()
                );
                return;
            }
        }
    }

    /// Waits until at least `n` calls match and returns them all.
    pub async fn wait_calls(&self, method: &str, path_part: &str, n: usize) -> Vec<Call> {
        let what = format!("{n} call(s) to {method} {path_part}");
        self.wait_until(Duration::from_secs(10), &what, |fake| fake.calls_to(method, path_part).len() >= n).await;
        self.calls_to(method, path_part)
    }

    /// Makes the next `n` calls matching `method` and `path_part` fail with `fault`.
    pub fn fail_next(&self, method: &str, path_part: &str, n: usize, fault: Fault) {
        self.shared.faults.lock().unwrap().push(FaultRule {
            method: method.to_owned(),
            path_part: path_part.to_owned(),
            remaining: n,
            fault,
        });
    }

    fn command(&self, command: GatewayCommand) {
        let sender = self.shared.gateway.lock().unwrap().clone().expect("no gateway connection");
        assert!(sender.send(command).is_ok(), "gateway connection gone");
    }

    /// Sends a dispatch event (op 0) on the current connection.
    pub fn dispatch(&self, event: &str, data: Value) {
        self.command(GatewayCommand::Dispatch(event.to_owned(), data));
    }

    /// Closes the current connection with a close code.
    pub fn close(&self, code: u16) {
        self.command(GatewayCommand::Close(code));
    }

    /// Drops the current connection's TCP stream without a close frame.
    pub fn drop_connection(&self) {
        self.command(GatewayCommand::Drop);
    }

    /// Goes dark: heartbeats get no ACK, and new connections are accepted but never answered
    /// (the client is left waiting for the WebSocket handshake, which never comes).
    pub fn go_dark(&self) {
        self.shared.dark.store(true, Ordering::SeqCst);
    }

    /// Goes dark for one shard: its heartbeats get no ACK, and new connections (a resume
    /// carries no shard number, so any) are accepted but never answered. Other shards' live
    /// connections work on.
    pub fn go_dark_shard(&self, shard: u32) {
        self.shared.dark_shards.lock().unwrap().insert(shard);
    }

    /// Drops the TCP stream of shard `shard`'s connection without a close frame.
    pub fn drop_shard_connection(&self, shard: u32) {
        let sender = self.shared.shard_gateways.lock().unwrap().get(&shard).cloned().expect("no such shard connected");
        assert!(sender.send(GatewayCommand::Drop).is_ok(), "shard connection gone");
    }

    /// Answers again (every shard): heartbeats are acknowledged and new connections work.
    /// Connections that stalled while dark stay stalled, as a half-open connection does.
    pub fn come_back(&self) {
        self.shared.dark.store(false, Ordering::SeqCst);
        self.shared.dark_shards.lock().unwrap().clear();
    }

    /// Sends op 7 RECONNECT.
    pub fn reconnect(&self) {
        self.command(GatewayCommand::Reconnect);
    }

    /// A fresh snowflake.
    pub fn next_id(&self) -> u64 {
        self.shared.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

fn record(shared: &Shared, call: Call) {
    shared.calls.lock().unwrap().push(call);
    shared.bump();
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

#[allow(clippy::too_many_lines, reason = "one fake REST API, read top to bottom")]
async fn rest_handler(
    State((shared, front)): State<(Arc<Shared>, usize)>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let body: Value = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bot {TOKEN}"));
    let method = method.as_str().to_owned();
    let fault = {
        let mut faults = shared.faults.lock().unwrap();
        let found = faults
            .iter_mut()
            .find(|rule| rule.remaining > 0 && rule.method == method && path.contains(&rule.path_part));
        found.map(|rule| {
            rule.remaining -= 1;
            rule.fault.clone()
        })
    };
    let chaos = {
        let mut chaos = shared.chaos.lock().unwrap();
        match chaos.as_mut() {
            Some(chaos) if fault.is_none() && path.contains(&chaos.path_part) && method != "GET" => {
                let roll = chaos.next() % 100;
                if roll >= chaos.percent {
                    ChaosOutcome::Pass
                } else if roll % 2 == 0 {
                    ChaosOutcome::RateLimited
                } else if roll % 8 == 1 {
                    ChaosOutcome::CreatedButLost
                } else {
                    ChaosOutcome::Unavailable
                }
            }
            _ => ChaosOutcome::Pass,
        }
    };
    let fault = match chaos {
        ChaosOutcome::RateLimited => Some(Fault::RateLimited(0.05)),
        ChaosOutcome::Unavailable => Some(Fault::Status(503, 0)),
        ChaosOutcome::Pass | ChaosOutcome::CreatedButLost => fault,
    };
    let call = Call {
        method: method.clone(),
        path: path.clone(),
        body: body.clone(),
        authorized,
        at: std::time::Instant::now(),
        front,
    };
    record(&shared, call);
    if let Some(fault) = fault {
        return match fault {
            Fault::RateLimited(retry_after) => (
                StatusCode::TOO_MANY_REQUESTS,
                [("content-type", "application/json".to_owned()), ("retry-after", format!("{retry_after}"))],
                json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false})
                    .to_string(),
            )
                .into_response(),
            Fault::Status(status, code) => {
                json_response(StatusCode::from_u16(status).unwrap(), &json!({"message": "fault", "code": code}))
            }
        };
    }
    let segments: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => json_response(StatusCode::OK, &json!({"url": shared.ws_url})),
        ("GET", ["gateway", "bot"]) => {
            let (shards, max_concurrency) = *shared.gateway_bot.lock().unwrap();
            json_response(
                StatusCode::OK,
                &json!({"url": shared.ws_url, "shards": shards,
                        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": max_concurrency}}),
            )
        }
        ("GET", ["users", "@me"]) => json_response(StatusCode::OK, &bot_user()),
        ("POST", ["users", "@me", "channels"]) => {
            let recipient: u64 = body["recipient_id"].as_str().unwrap_or("0").parse().unwrap_or(0);
            json_response(
                StatusCode::OK,
                &json!({"id": dm_channel_of(recipient).to_string(), "type": 1, "recipients": [user(recipient, "someone", false)]}),
            )
        }
        ("PUT", ["applications", _, "commands"] | ["applications", _, "guilds", _, "commands"]) => {
            let commands: Vec<Value> = body
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|mut command| {
                    command["id"] = json!(shared.next_id.fetch_add(1, Ordering::Relaxed).to_string());
                    command["application_id"] = json!(APP_ID.to_string());
                    command["version"] = json!("1");
                    command["type"] = json!(1);
                    command
                })
                .collect();
            json_response(StatusCode::OK, &Value::Array(commands))
        }
        ("POST", ["channels", channel, "messages"]) => {
            let now = std::time::Instant::now();
            let nonce = body["nonce"].as_str().map(str::to_owned);
            let enforced = body["enforce_nonce"] == json!(true);
            let key = nonce.clone().filter(|_| enforced).map(|nonce| ((*channel).to_owned(), nonce));
            let existing = key.as_ref().and_then(|key| {
                let by_nonce = shared.by_nonce.lock().unwrap();
                by_nonce.get(key).filter(|(_, at)| now.duration_since(*at) < shared.nonce_window).map(|(id, _)| *id)
            });
            let id = if let Some(id) = existing {
                shared.deduped.fetch_add(1, Ordering::Relaxed);
                id
            } else {
                let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
                if let Some(key) = key {
                    shared.by_nonce.lock().unwrap().insert(key, (id, now));
                }
                shared.created.lock().unwrap().push(Created { channel: (*channel).to_owned(), nonce, front, at: now });
                shared.bump();
                id
            };
            if chaos == ChaosOutcome::CreatedButLost {
                return json_response(StatusCode::SERVICE_UNAVAILABLE, &json!({"message": "lost", "code": 0}));
            }
            json_response(StatusCode::OK, &sent_message(id, channel, &body))
        }
        ("POST", ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        ("PATCH", ["webhooks", _, _, "messages", "@original"]) | ("POST", ["webhooks", _, _]) => {
            let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
            json_response(StatusCode::OK, &sent_message(id, &CHANNEL_ID.to_string(), &body))
        }
        _ => json_response(StatusCode::NOT_FOUND, &json!({"message": "404: Not Found", "code": 0})),
    }
}

fn sent_message(id: u64, channel: &str, body: &Value) -> Value {
    json!({
        "id": id.to_string(), "channel_id": channel, "author": bot_user(),
        "content": body.get("content").cloned().unwrap_or(json!("")),
        "timestamp": "2026-01-01T00:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": body.get("embeds").cloned().unwrap_or(json!([])), "pinned": false, "type": 0,
        "components": [], "flags": 0,
    })
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (sender, mut commands) = mpsc::unbounded_channel();
    *shared.gateway.lock().unwrap() = Some(sender.clone());
    shared.stats.lock().unwrap().connections += 1;
    shared.bump();
    let send = |op: Value| WsMessage::Text(op.to_string());
    // The shard this connection identified as, once it has.
    let mut identified_as: Option<u32> = None;
    if ws.send(send(json!({"op": 10, "d": {"heartbeat_interval": shared.heartbeat_interval_ms}}))).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            incoming = ws.next() => {
                let Some(Ok(WsMessage::Text(text))) = incoming else {
                    match incoming {
                        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Binary(_) | WsMessage::Frame(_))) => continue,
                        Some(Ok(WsMessage::Close(Some(frame)))) if u16::from(frame.code) == 1000 => {
                            shared.stats.lock().unwrap().clean_closes += 1;
                            break;
                        }
                        _ => break,
                    }
                };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { break };
                let reply = match payload["op"].as_u64() {
                    Some(1) if goes_unanswered(&shared, identified_as) =>
                    {
                        {
                            let mut stats = shared.stats.lock().unwrap();
                            stats.heartbeats += 1;
                            stats.unanswered_heartbeats += 1;
                        }
                        shared.bump();
                        None
                    }
                    Some(1) => {
                        shared.stats.lock().unwrap().heartbeats += 1;
                        Some(json!({"op": 11}))
                    }
                    Some(2) => {
                        {
                            let mut stats = shared.stats.lock().unwrap();
                            stats.identifies += 1;
                            stats.intents = payload["d"]["intents"].as_u64().unwrap_or(0);
                        }
                        let identified = payload["d"]["shard"].as_array().map_or((0, 1), |pair| {
                            let number = |n: usize| pair.get(n).and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok());
                            (number(0).unwrap_or(0), number(1).unwrap_or(1))
                        });
                        identified_as = Some(identified.0);
                        shared.identify_log.lock().unwrap().push((identified.0, identified.1, std::time::Instant::now()));
                        shared.shard_gateways.lock().unwrap().insert(identified.0, sender.clone());
                        let seq = shared.seq.fetch_add(1, Ordering::SeqCst) + 1;
                        let mut data = ready(&shared.ws_url);
                        data["shard"] = json!([identified.0, identified.1]);
                        Some(json!({"op": 0, "t": "READY", "s": seq, "d": data}))
                    }
                    Some(6) => {
                        shared.stats.lock().unwrap().resumes += 1;
                        let seq = shared.seq.fetch_add(1, Ordering::SeqCst) + 1;
                        Some(json!({"op": 0, "t": "RESUMED", "s": seq, "d": {}}))
                    }
                    _ => None,
                };
                if let Some(reply) = reply {
                    if ws.send(send(reply)).await.is_err() {
                        break;
                    }
                    shared.bump();
                }
            }
            command = commands.recv() => match command {
                Some(GatewayCommand::Dispatch(event, data)) => {
                    let seq = shared.seq.fetch_add(1, Ordering::SeqCst) + 1;
                    if ws.send(send(json!({"op": 0, "t": event, "s": seq, "d": data}))).await.is_err() {
                        break;
                    }
                }
                Some(GatewayCommand::Reconnect) => {
                    if ws.send(send(json!({"op": 7, "d": null}))).await.is_err() {
                        break;
                    }
                }
                Some(GatewayCommand::Close(code)) => {
                    let frame = CloseFrame { code: CloseCode::from(code), reason: "fake close".into() };
                    let _ = ws.close(Some(frame)).await;
                    // Let the client answer the close handshake, briefly.
                    let _ = tokio::time::timeout(Duration::from_secs(1), async { while ws.next().await.is_some() {} }).await;
                    break;
                }
                Some(GatewayCommand::Drop) | None => break,
            },
        }
    }
    drop(ws);
    shared.stats.lock().unwrap().disconnects += 1;
    shared.bump();
}

/// Whether a heartbeat on a connection identified as `identified_as` gets no ACK: the fake is
/// dark, or that shard is.
fn goes_unanswered(fake: &Shared, identified_as: Option<u32>) -> bool {
    fake.dark.load(Ordering::SeqCst) || identified_as.is_some_and(|id| fake.dark_shards.lock().unwrap().contains(&id))
}

/// The DM channel the fake opens with a user: [`DM_CHANNEL_ID`] for [`USER_ID`], one of its own
/// for anyone else.
pub fn dm_channel_of(user_id: u64) -> u64 {
    if user_id == USER_ID { DM_CHANNEL_ID } else { 1_350_000_000_000_000_000 + user_id % 1_000_000_000_000_000 }
}

/// The READY event's data.
pub fn ready(resume_gateway_url: &str) -> Value {
    json!({
        "v": 10, "user": bot_user(), "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
        "session_id": "fake-session", "resume_gateway_url": resume_gateway_url, "shard": [0, 1],
        "application": {"id": APP_ID.to_string(), "flags": 0},
    })
}

/// A user object.
pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0", "global_name": null, "avatar": null, "bot": bot, "public_flags": 0})
}

/// The bot's own user object.
pub fn bot_user() -> Value {
    let mut user = user(BOT_ID, "crampbot", true);
    user["verified"] = json!(true);
    user["mfa_enabled"] = json!(false);
    user["flags"] = json!(0);
    user
}

/// A guild member object for `user`.
pub fn member(user: &Value) -> Value {
    json!({"user": user, "roles": [], "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false,
           "flags": 0, "pending": false, "permissions": "2248473465835073"})
}

/// A `MESSAGE_CREATE` payload. `guild` false makes it a DM; `mentions` lists mentioned users.
pub fn message(id: u64, author: &Value, content: &str, guild: bool, mentions: &[Value]) -> Value {
    let mut message = json!({
        "id": id.to_string(), "channel_id": if guild { CHANNEL_ID } else { DM_CHANNEL_ID }.to_string(),
        "author": author, "content": content, "timestamp": "2026-01-01T00:00:00.000000+00:00",
        "edited_timestamp": null, "tts": false, "mention_everyone": false, "mentions": mentions,
        "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0, "flags": 0, "components": [],
    });
    if guild {
        message["guild_id"] = json!(GUILD_ID.to_string());
        message["member"] = json!({"roles": [], "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0});
    }
    message
}

/// The human test user.
pub fn human() -> Value {
    user(USER_ID, "walker", false)
}

fn interaction(kind: u8, id: u64, data: &Value, guild: bool) -> Value {
    let mut interaction = json!({
        "id": id.to_string(), "application_id": APP_ID.to_string(), "type": kind, "data": data,
        "channel_id": if guild { CHANNEL_ID } else { DM_CHANNEL_ID }.to_string(),
        "token": format!("itoken{id}"), "version": 1, "app_permissions": "2248473465835073", "locale": "en-US",
        "entitlements": [], "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
        "context": u8::from(!guild), "attachment_size_limit": 26_214_400,
    });
    if guild {
        interaction["guild_id"] = json!(GUILD_ID.to_string());
        interaction["guild_locale"] = json!("en-US");
        interaction["member"] = member(&human());
    } else {
        interaction["user"] = human();
    }
    interaction
}

/// `interaction` (built by [`command`], [`subcommand`] and the like) as Discord sends it to an
/// app installed to the user's account rather than to a server: the user authorized it
/// (`authorizing_integration_owners` `{"1": user}`), and it is used either in a group DM between
/// people (context 2, no server) or, with `in_guild`, in a server the bot is not in (context 0).
pub fn user_installed(mut interaction: Value, in_guild: bool) -> Value {
    let object = interaction.as_object_mut().expect("an interaction object");
    object.insert("authorizing_integration_owners".to_owned(), json!({"1": USER_ID.to_string()}));
    object.insert("app_permissions".to_owned(), json!("562949953601536"));
    if in_guild {
        object.insert("context".to_owned(), json!(0));
        object.insert("guild_id".to_owned(), json!(OTHER_GUILD_ID.to_string()));
        object.insert("guild_locale".to_owned(), json!("en-US"));
        object.insert("channel_id".to_owned(), json!(OTHER_CHANNEL_ID.to_string()));
        object.insert(
            "channel".to_owned(),
            json!({"id": OTHER_CHANNEL_ID.to_string(), "type": 0, "guild_id": OTHER_GUILD_ID.to_string()}),
        );
        object.insert("member".to_owned(), member(&human()));
        object.remove("user");
    } else {
        object.insert("context".to_owned(), json!(2));
        object.remove("guild_id");
        object.remove("guild_locale");
        object.remove("member");
        object.insert("channel_id".to_owned(), json!(GROUP_DM_ID.to_string()));
        object.insert("channel".to_owned(), json!({"id": GROUP_DM_ID.to_string(), "type": 3}));
        object.insert("user".to_owned(), human());
    }
    interaction
}

/// An application command interaction; `options` are `(name, value)` (strings and booleans).
pub fn command(id: u64, name: &str, options: &[(&str, Value)], guild: bool) -> Value {
    let options: Vec<Value> = options
        .iter()
        .map(|(name, value)| json!({"name": name, "type": if value.is_boolean() { 5 } else { 3 }, "value": value}))
        .collect();
    interaction(2, id, &json!({"id": "1600000000000000001", "name": name, "type": 1, "options": options}), guild)
}

/// An application command interaction with a subcommand: `/name sub option...`. `options` are
/// `(name, type, value)` with Discord's option types (3 string, 4 integer, 5 boolean, 7 channel,
/// 8 role; ids as strings).
pub fn subcommand(id: u64, name: &str, sub: &str, options: &[(&str, u8, Value)], guild: bool) -> Value {
    let options: Vec<Value> =
        options.iter().map(|(name, kind, value)| json!({"name": name, "type": kind, "value": value})).collect();
    let data = json!({"id": "1600000000000000003", "name": name, "type": 1,
                      "options": [{"name": sub, "type": 1, "options": options}]});
    interaction(2, id, &data, guild)
}

/// An autocomplete interaction for `/name sub` with `option` focused at `partial`.
pub fn autocomplete_subcommand(id: u64, name: &str, sub: &str, option: &str, partial: &str) -> Value {
    let data = json!({"id": "1600000000000000004", "name": name, "type": 1,
                      "options": [{"name": sub, "type": 1,
                                   "options": [{"name": option, "type": 3, "value": partial, "focused": true}]}]});
    interaction(4, id, &data, false)
}

/// An autocomplete interaction for `/cause name:<partial>`.
pub fn autocomplete(id: u64, partial: &str) -> Value {
    interaction(
        4,
        id,
        &json!({"id": "1600000000000000002", "name": "cause", "type": 1,
               "options": [{"name": "name", "type": 3, "value": partial, "focused": true}]}),
        true,
    )
}

/// A button click with `custom_id` on one of the bot's messages.
pub fn button(id: u64, custom_id: &str) -> Value {
    let mut click = interaction(3, id, &json!({"custom_id": custom_id, "component_type": 2}), true);
    click["message"] = sent_message(id - 1, &CHANNEL_ID.to_string(), &json!({}));
    click
}
