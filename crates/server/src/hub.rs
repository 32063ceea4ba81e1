//! Wakes a user's WebSocket connections when the user has new events, whichever instance
//! recorded them. A connection then reads the events from the database itself, so a
//! wake-up carries no data and a missed or repeated one costs nothing but a query.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use crate::db::{EVENTS_CHANNEL, parse_notification_payload};

#[derive(Debug)]
pub struct Hub {
    users: Mutex<HashMap<i64, watch::Sender<u64>>>,
    /// Wakes every connection (after the PostgreSQL listener reconnects: notifications
    /// sent meanwhile are lost).
    everyone: watch::Sender<u64>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            users: Mutex::new(HashMap::new()),
            everyone: watch::channel(0).0,
        }
    }
}

/// A connection's wake-ups.
pub struct Subscription {
    user: watch::Receiver<u64>,
    everyone: watch::Receiver<u64>,
}

impl Subscription {
    /// Waits for the next wake-up. Wake-ups that came since the last call are not lost
    /// (they are remembered as "changed").
    pub async fn changed(&mut self) {
        tokio::select! {
            result = self.user.changed() => {
                if result.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            result = self.everyone.changed() => {
                if result.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

impl Hub {
    pub fn subscribe(&self, user: i64) -> Subscription {
        // Held only for map operations that cannot panic, so a poisoned lock is intact.
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let sender = users.entry(user).or_insert_with(|| watch::channel(0).0);
        Subscription {
            user: sender.subscribe(),
            everyone: self.everyone.subscribe(),
        }
    }

    pub fn notify(&self, user: i64) {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = users.get(&user) {
            if sender.receiver_count() == 0 {
                users.remove(&user);
            } else {
                sender.send_modify(|count| *count = count.wrapping_add(1));
            }
        }
    }

    pub fn notify_everyone(&self) {
        self.everyone
            .send_modify(|count| *count = count.wrapping_add(1));
    }
}

/// Listens for other instances' notifications on PostgreSQL until `shutdown` fires,
/// reconnecting after a failure.
pub async fn listen_postgres(
    url: String,
    instance_id: String,
    hub: std::sync::Arc<Hub>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            Err(error) = relay_notifications(&url, &instance_id, &hub) => {
                tracing::warn!(%error, "PostgreSQL event listener failed; reconnecting");
            }
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

async fn relay_notifications(
    url: &str,
    instance_id: &str,
    hub: &Hub,
) -> Result<std::convert::Infallible, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(EVENTS_CHANNEL).await?;
    // Anything sent before this point may have been missed.
    hub.notify_everyone();
    loop {
        match listener.try_recv().await? {
            Some(notification) => match parse_notification_payload(notification.payload()) {
                Some((user, sender)) if sender != instance_id => hub.notify(user),
                Some(_) => {}
                None => tracing::warn!(
                    payload = notification.payload(),
                    "ignoring a malformed event notification"
                ),
            },
            // The connection dropped and is re-established on the next call.
            None => hub.notify_everyone(),
        }
    }
}
