//! `dreamcatcher-server`: runs the service and manages its accounts.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dreamcatcher_server::accounts::{self, AccountError};
use dreamcatcher_server::config::{DEFAULT_LISTEN, default_data_dir};
use dreamcatcher_server::db::Database;
use dreamcatcher_server::{DatabaseLocation, RateLimit, ServerConfig};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "dreamcatcher-server",
    version,
    about = "The PipelineOS Dreamcatcher service: REST and WebSocket sync for the Dreamcatcher extension",
    after_help = "Data: a SQLite file in --data (default $DREAMCATCHER_DATA, else \
                  $XDG_DATA_HOME/dreamcatcher, else ~/.local/share/dreamcatcher), or PostgreSQL \
                  when DATABASE_URL=postgres://… is set."
)]
struct Cli {
    /// Directory of the SQLite database (unused with DATABASE_URL).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    /// PostgreSQL instead of SQLite: postgres://user:password@host/database.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the service.
    Serve(ServeArgs),
    /// Adds or lists users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Prints a short-lived, single-use pairing code for a user; the extension's settings
    /// page exchanges it for a device token.
    Pair {
        user: String,
        /// Minutes the code stays valid.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1440))]
        minutes: u64,
    },
    /// Creates, lists or revokes device tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    Add { name: String },
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Creates a device token for a user; the token is the last line of output.
    Create {
        user: String,
        /// A name for the device, shown by `token list`.
        #[arg(long, default_value = "cli")]
        device: String,
    },
    /// Lists a user's devices.
    List { user: String },
    /// Revokes a device (by id from `token list`), a token, or every device of a user.
    Revoke(RevokeArgs),
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct RevokeArgs {
    #[arg(long, value_name = "ID")]
    device: Option<i64>,
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    #[arg(long, value_name = "USER")]
    all_of: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR")]
    listen: SocketAddr,
    /// Where implement forwards projects.
    #[arg(long, env = "ORCHESTRATOR_URL", value_name = "URL")]
    orchestrator_url: Option<String>,
    /// Shared with the orchestrator: required on its reports, sent with projects.
    #[arg(
        long,
        env = "ORCHESTRATOR_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    orchestrator_secret: Option<String>,
    /// This service's address as the orchestrator reaches it (for callback URLs).
    #[arg(long, env = "DREAMCATCHER_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Largest capture body, in bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024, value_name = "BYTES")]
    max_capture_bytes: usize,
    /// Largest import body, in bytes.
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    max_import_bytes: usize,
    /// Largest WebSocket message, in bytes.
    #[arg(long, default_value_t = dreamcatcher_sync::MAX_MESSAGE_BYTES, value_name = "BYTES")]
    max_ws_message_bytes: usize,
    /// Requests per second per device token (REST and WebSocket messages); 0 turns the
    /// limit off.
    #[arg(long, default_value_t = 20, value_name = "N")]
    rate_limit: u32,
    /// Burst allowed above the rate.
    #[arg(long, default_value_t = 100, value_name = "N")]
    rate_burst: u32,
    #[arg(
        long,
        value_enum,
        default_value = "text",
        env = "DREAMCATCHER_LOG_FORMAT"
    )]
    log_format: LogFormat,
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn database_location(cli: &Cli) -> Result<DatabaseLocation, String> {
    let data = cli.data.clone().unwrap_or_else(default_data_dir);
    DatabaseLocation::choose(cli.database_url.as_deref(), &data).map_err(|error| error.to_string())
}

async fn open_database(cli: &Cli) -> Result<Database, String> {
    let location = database_location(cli)?;
    Database::open(&location, "cli")
        .await
        .map_err(|error| format!("cannot open the database: {error}"))
}

fn account_error(error: AccountError) -> String {
    error.to_string()
}

fn format_millis(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|time| time.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| millis.to_string())
}

async fn serve(cli: &Cli, args: &ServeArgs) -> Result<(), String> {
    init_logging(args.log_format);
    let mut config = ServerConfig::new(database_location(cli)?);
    config.listen = args.listen;
    config.orchestrator_url = args.orchestrator_url.clone().filter(|url| !url.is_empty());
    config.orchestrator_secret = args
        .orchestrator_secret
        .clone()
        .filter(|secret| !secret.is_empty());
    config.public_url = args.public_url.clone().filter(|url| !url.is_empty());
    config.max_capture_bytes = args.max_capture_bytes;
    config.max_import_bytes = args.max_import_bytes;
    config.max_ws_message_bytes = args.max_ws_message_bytes;
    config.rate_limit = NonZeroU32::new(args.rate_limit).map(|per_second| RateLimit {
        per_second,
        burst: NonZeroU32::new(args.rate_burst).unwrap_or(per_second),
    });
    if let DatabaseLocation::SqliteDir(dir) = &config.database {
        tracing::info!(data = %dir.display(), "using the SQLite database in the data directory");
    }
    let server = dreamcatcher_server::start(config)
        .await
        .map_err(|error| format!("cannot start: {error}"))?;
    println!("dreamcatcher-server listening on http://{}", server.addr);
    let stopper = server.stopper();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("stopping");
        let _ = stopper.send(true);
    });
    server
        .wait()
        .await
        .map_err(|error| format!("the server failed: {error}"))
}

async fn wait_for_stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        Command::Serve(args) => serve(&cli, args).await,
        Command::User { command } => {
            let db = open_database(&cli).await?;
            match command {
                UserCommand::Add { name } => {
                    let user = accounts::add_user(&db, name).await.map_err(account_error)?;
                    println!("added user {:?} (id {})", user.name, user.id);
                }
                UserCommand::List => {
                    let users = accounts::list_users(&db).await.map_err(account_error)?;
                    if users.is_empty() {
                        println!("no users yet: add one with `dreamcatcher-server user add NAME`");
                    }
                    for user in users {
                        println!(
                            "{}\tid {}\t{} dreams\t{} active devices\tsince {}",
                            user.name,
                            user.id,
                            user.dreams,
                            user.active_devices,
                            format_millis(user.created_at)
                        );
                    }
                }
            }
            db.close().await;
            Ok(())
        }
        Command::Pair { user, minutes } => {
            let db = open_database(&cli).await?;
            let code = accounts::create_pairing_code(&db, user, Duration::from_secs(minutes * 60))
                .await
                .map_err(account_error)?;
            println!("pairing code for {user:?}, valid {minutes} min, usable once:");
            println!("{code}");
            db.close().await;
            Ok(())
        }
        Command::Token { command } => {
            let db = open_database(&cli).await?;
            match command {
                TokenCommand::Create { user, device } => {
                    let issued = accounts::create_token(&db, user, device)
                        .await
                        .map_err(account_error)?;
                    println!(
                        "device {} {:?} of user {user:?}; the token is shown only now:",
                        issued.device.id, issued.device.name
                    );
                    println!("{}", issued.token);
                }
                TokenCommand::List { user } => {
                    for device in accounts::list_devices(&db, user)
                        .await
                        .map_err(account_error)?
                    {
                        let state = match device.revoked_at {
                            Some(at) => format!("revoked {}", format_millis(at)),
                            None => "active".to_string(),
                        };
                        println!(
                            "{}\t{}\t{}\tcreated {}",
                            device.id,
                            device.name,
                            state,
                            format_millis(device.created_at)
                        );
                    }
                }
                TokenCommand::Revoke(revoke) => {
                    let message = if let Some(id) = revoke.device {
                        if accounts::revoke_device(&db, id)
                            .await
                            .map_err(account_error)?
                        {
                            format!("revoked device {id}")
                        } else {
                            return Err(format!("no active device with id {id}"));
                        }
                    } else if let Some(token) = &revoke.token {
                        match accounts::revoke_token(&db, token)
                            .await
                            .map_err(account_error)?
                        {
                            Some(id) => format!("revoked device {id}"),
                            None => return Err("no active device has that token".to_string()),
                        }
                    } else if let Some(user) = &revoke.all_of {
                        let count = accounts::revoke_all(&db, user)
                            .await
                            .map_err(account_error)?;
                        format!("revoked {count} devices of {user:?}")
                    } else {
                        return Err("say which: --device ID, --token TOKEN or --all-of USER".into());
                    };
                    println!("{message}");
                }
            }
            db.close().await;
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
