//! The command line, as clap sees it. Secrets are never arguments: credentials come from a prompt,
//! stdin or the environment (see `add`).

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use latchkey_core::model::Exchange;

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Keep exchange API keys in the OS keychain and hand them to bots at run time",
    long_about = "Keep exchange API keys in the OS keychain and hand them to bots at run time.\n\n\
        Shares its keys, store and keychain items with the Latchkey desktop app; both may run at once.\n\
        Exit codes: 0 ok, 1 failure, 2 usage error, 3 guarded action refused or key not usable.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the keys (from the local store; the keychain is not touched)
    List(JsonFlag),
    /// Rotation state and risk findings for every key
    Status(JsonFlag),
    /// Add a key; credentials come from a no-echo prompt, stdin (KEY=value lines) or the environment
    Add(AddArgs),
    /// Ask the exchange what a key can do, show the findings and remember the answer
    Check(CheckArgs),
    /// Change a key's label, rotation policy, environment or bots access (a move needs a 2FA code when 2FA is set up, and is checked at the new address at once)
    Edit(EditArgs),
    /// Run a command with key(s) in its environment (OKX_API_KEY, BYBIT_API_SECRET, …) or a private file; it follows when a key is rotated
    Run(RunArgs),
    /// Print one key for a pipe (never a terminal), e.g. into `ssh vps systemd-creds encrypt …` for a server without OpenBao (needs a 2FA code)
    Export(ExportArgs),
    /// Rotate keys: a sub key whose master Latchkey holds is replaced through the master, by itself; any other key with new credentials read as `add` reads them. The bots running with the old key move to the new one, then the old key is retired (needs a 2FA code)
    Rotate(RotateArgs),
    /// Emergency revoke: revoke keys at their exchange and wipe them here (needs a 2FA code)
    Revoke(RevokeArgs),
    /// Which keys `run` may hand to bots: allow (needs a 2FA code) or deny
    #[command(subcommand)]
    Bots(BotsCommand),
    /// After deleting a still-live key on the exchange's website: prove it is gone with a signed call, then wipe its secret (needs a 2FA code)
    ConfirmDeleted(ConfirmDeletedArgs),
    /// Two-factor guard: enroll, status, disable
    #[command(name = "2fa", subcommand)]
    TwoFactor(TwoFactorCommand),
    /// The audit log, and a check that nobody edited it
    Audit(AuditArgs),
    /// Find exchange credentials lying in files (.env, bot configs, scripts, shell history); exit 1 when any are found
    Scan(ScanArgs),
    /// Move the credentials found in a file into the keychain, and optionally remove them from the file
    Import(ImportArgs),
    /// A master key's sub-accounts, as its exchange lists them, and whether the key can mint keys for them
    Subaccounts(SubaccountsArgs),
    /// Create a bot key in a sub-account through its master key; the secret goes straight into the keychain (needs a 2FA code when 2FA is set up)
    Mint(MintArgs),
    /// Fix a key's risk finding through its master: bind it to IPs, remove withdraw/transfer or make it read-only (needs a 2FA code when 2FA is set up); the key is checked again afterwards
    Fix(FixArgs),
    /// Emergency stop: lock the whole sub-account of a key through its master, so every key (and login) of it stops at the exchange (Gate, Bybit; needs a 2FA code when 2FA is set up)
    LockSubAccount(LockArgs),
    /// Keychain items no key on the list describes (after a crash or a moved-aside database): list, restore or delete them
    Orphans(OrphansArgs),
    /// The OpenBao server that delivers keys to bots on servers: set it up, test the connection
    #[command(subcommand)]
    Servers(ServersCommand),
    /// Write keys to the OpenBao server (a new version each time a key changed), for bots on servers; only keys bots may use
    Deliver(DeliverArgs),
    /// Destroy every version of keys on the OpenBao server (the bots there can no longer read them)
    Undeliver(DeliverArgs),
    /// Servers bots run on: give one read access to exactly some delivered keys (an AppRole), list them, remove one
    #[command(subcommand)]
    Host(HostCommand),
    /// The signing agent: bots trade through it with placeholder credentials and never hold the secret (`agent` runs it; `agent issue` gives a bot its placeholders)
    Agent(AgentArgs),
    /// Print a shell completion script (e.g. `latchkey completions bash > ~/.local/share/bash-completion/completions/latchkey`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct SubaccountsArgs {
    /// The master key's label (or id)
    #[arg(long)]
    pub master: String,
    /// The exchange's own 2FA code, where the exchange asks for one (Deribit accounts with security
    /// keys); Latchkey never stores the exchange's 2FA seed
    #[arg(long)]
    pub exchange_code: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    latchkey subaccounts --master okx-master\n  \
    latchkey mint --master okx-master --sub-account bot1 --label grid-bot --ip 203.0.113.7\n  \
    latchkey mint --master bybit-master --sub-account 1449002 --label dca --perm read --no-ip-whitelist\n\
    Withdraw is never offered: no exchange grants it to sub-account keys.")]
pub struct MintArgs {
    /// The master key's label (or id)
    #[arg(long)]
    pub master: String,
    /// The sub-account, by the name (or UID, or email) `latchkey subaccounts` lists
    #[arg(long)]
    pub sub_account: String,
    /// The new key's label, in Latchkey and on the exchange
    #[arg(long)]
    pub label: String,
    /// Permissions, comma-separated: read, trade [read,trade]
    #[arg(long, value_delimiter = ',', default_value = "read,trade")]
    pub perm: Vec<String>,
    /// An IP address the key works from (repeat for more); required unless --no-ip-whitelist
    #[arg(long = "ip")]
    pub ips: Vec<String>,
    /// Create the key without an IP whitelist, accepting what the exchange does to such keys
    #[arg(long, conflicts_with = "ips")]
    pub no_ip_whitelist: bool,
    /// Rotation policy in days [90]
    #[arg(long)]
    pub rotate_every: Option<u32>,
    /// Rotate the key automatically when it falls due (stored for the rotation engine)
    #[arg(long)]
    pub auto_rotate: bool,
    /// Let the exchange itself expire the key after this many days, where it offers that (KuCoin:
    /// 30, 90, 180 or 360) [never]
    #[arg(long)]
    pub expire_days: Option<u32>,
    /// The exchange's own 2FA code, where the exchange asks for one (Deribit accounts with security
    /// keys); Latchkey never stores the exchange's 2FA seed
    #[arg(long)]
    pub exchange_code: Option<String>,
    /// The 2FA code (or a recovery code); `-` reads it from stdin; prompted for without echo when needed and not given
    #[arg(long)]
    pub code: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("fix").required(true).args(["bind_ip", "drop_withdraw", "read_only"])))]
#[command(after_help = "Examples:\n  \
    latchkey fix grid-bot --bind-ip 203.0.113.7 --bind-ip 203.0.113.8\n  \
    latchkey fix dca --drop-withdraw\n  \
    latchkey fix dca --read-only --code 123456\n\
    Only a sub-account key whose master Latchkey holds can be fixed this way (the exchanges let a master\n\
    change its sub-accounts' keys); the whole setting is sent, and sub keys get read and trade only.\n\
    Exit codes: 0 fixed (the finding is gone), 1 changed but the finding is still there (or the change failed),\n\
    2 usage (an IP list the exchange refuses), 3 refused (no master, nothing to fix, a wrong code).")]
pub struct FixArgs {
    /// The key's label (or id)
    pub key: String,
    /// Bind the key to this IP address (repeat for more): the whole new whitelist
    #[arg(long = "bind-ip")]
    pub bind_ip: Vec<String>,
    /// Remove withdraw and transfer, keep read and trade
    #[arg(long)]
    pub drop_withdraw: bool,
    /// Make the key read-only
    #[arg(long)]
    pub read_only: bool,
    /// The exchange's own 2FA code, where the exchange asks for one (Deribit accounts with security
    /// keys); Latchkey never stores the exchange's 2FA seed
    #[arg(long)]
    pub exchange_code: Option<String>,
    /// The 2FA code (or a recovery code); `-` reads it from stdin; prompted for without echo when needed and not given
    #[arg(long)]
    pub code: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  latchkey lock-sub-account gate-grid-bot --code 123456\n\
    Every key of the sub-account stops, those Latchkey does not hold too; unlock it on the exchange's website.\n\
    Its keys stay in Latchkey: revoke them as usual (a locked key is refused, which proves nothing).")]
pub struct LockArgs {
    /// A key of the sub-account to lock (label or id); its master signs the lock
    pub key: String,
    /// The 2FA code (or a recovery code); `-` reads it from stdin; prompted for without echo when needed and not given
    #[arg(long)]
    pub code: Option<String>,
    /// The exchange's own 2FA code, where the exchange asks for one
    #[arg(long)]
    pub exchange_code: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON (shape documented in the README) instead of text
    #[arg(long)]
    pub json: bool,
}

/// `--exchange`: the adapters' ids (`okx`, `bybit`, `binance`), so a new exchange needs no CLI change.
fn exchange_arg() -> impl clap::builder::TypedValueParser<Value = Exchange> {
    clap::builder::PossibleValuesParser::new(Exchange::ALL.map(Exchange::as_str)).try_map(|id| id.parse::<Exchange>())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EnvArg {
    Live,
    Demo,
    Custom,
}

#[derive(Debug, Args)]
#[command(after_help = "Credentials are read, in this order, from:\n  \
    1. LATCHKEY_API_KEY, LATCHKEY_API_SECRET, LATCHKEY_API_PASSPHRASE in the environment;\n  \
    2. a no-echo prompt, when stdin is a terminal;\n  \
    3. stdin as KEY=value lines: API_KEY=…, API_SECRET=…, API_PASSPHRASE=… (OKX only).\n\
    Never from arguments: they would show in `ps` and in your shell history.")]
pub struct AddArgs {
    #[arg(long, value_parser = exchange_arg())]
    pub exchange: Exchange,
    /// A unique name for the key, e.g. okx-bot-main
    #[arg(long)]
    pub label: String,
    #[command(flatten)]
    pub placement: KeyPlacement,
    /// The master account's key (label) that can revoke this sub-account key
    #[arg(long, value_name = "LABEL")]
    pub master: Option<String>,
    /// The sub-account's name as the master's API knows it (OKX subAcct, Binance sub-account email)
    #[arg(long, value_name = "NAME", requires = "master")]
    pub sub_account: Option<String>,
    /// Save without asking the exchange first (not recommended: typos go unnoticed)
    #[arg(long)]
    pub no_verify: bool,
    /// Do not let `latchkey run` hand this key to bots (allowed by default; master keys never are)
    #[arg(long)]
    pub no_bots: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Without --restore or --delete, lists the orphaned items (the app offers the same at start).\n\
    --restore puts the item back on the list and checks the key with its exchange so it gets its real\n\
    permissions; items written by older versions do not record their exchange or environment: give\n\
    --exchange (and --env/--base-url) then. --delete removes the item from the keychain for good and\n\
    needs a 2FA code when 2FA is set up.\n\
    Exit codes: 0 done (or nothing orphaned), 1 orphans listed or a failure, 3 refused.")]
pub struct OrphansArgs {
    /// Put this item (its id as listed) back on the list
    #[arg(long, value_name = "ID", conflicts_with = "delete")]
    pub restore: Option<String>,
    /// Delete this item (its id as listed) from the keychain
    #[arg(long, value_name = "ID")]
    pub delete: Option<String>,
    /// For --restore: the key's exchange, when the item does not record it
    #[arg(long, value_parser = exchange_arg(), requires = "restore")]
    pub exchange: Option<Exchange>,
    /// For --restore: the key's label [default: the one the item records, else restored-<exchange>-<id>]
    #[arg(long, requires = "restore")]
    pub label: Option<String>,
    /// For --restore: which system the key belongs to [default: what the item records, else live]
    #[arg(long = "env", value_enum, requires = "restore")]
    pub environment: Option<EnvArg>,
    /// For --restore with --env custom: the API base URL
    #[arg(long, requires = "restore")]
    pub base_url: Option<String>,
    /// For --delete: the 2FA code (or a recovery code); `-` reads it from stdin; prompted for without echo when not given
    #[arg(long, requires = "delete")]
    pub code: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The key's label (or id)
    pub label: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "The secret never changes in an edit (rotate the key for that).\n\
    A move (--env/--base-url) changes where Latchkey sends the key's signed requests, its revoke included,\n\
    so it needs a 2FA code when 2FA is set up; the key is then checked with a signed read at the new address.\n\
    An active or rejected key's status follows that answer; a quarantined or still-live key keeps its\n\
    status (finish it with `latchkey revoke` or `latchkey confirm-deleted`).\n\
    Exit codes: 0 saved (and, after a move, the key answered there), 1 saved but the check at the new\n\
    address failed or refused the key, 2 usage, 3 refused (a wrong code, a revoked key).")]
pub struct EditArgs {
    /// The key's label (or id)
    pub key: String,
    /// A new label
    #[arg(long)]
    pub label: Option<String>,
    /// A new rotation policy in days
    #[arg(long, alias = "rotate-days")]
    pub rotation_days: Option<u32>,
    /// Move the key to another system [custom when only --base-url is given]
    #[arg(long = "env", value_enum)]
    pub environment: Option<EnvArg>,
    /// The API base URL for --env custom (https, or http on loopback for a local simulator)
    #[arg(long)]
    pub base_url: Option<String>,
    /// Let `latchkey run` hand this key to bots (needs a 2FA code; never for a master key)
    #[arg(long, conflicts_with = "no_bots")]
    pub allow_bots: bool,
    /// Stop `latchkey run` from handing this key to bots
    #[arg(long)]
    pub no_bots: bool,
    /// Rotate this sub key automatically through its master (needs a 2FA code; the key's master must be in Latchkey)
    #[arg(long, conflicts_with = "no_auto_rotate")]
    pub auto_rotate: bool,
    /// Rotate this key by hand only
    #[arg(long)]
    pub no_auto_rotate: bool,
    /// The 2FA code for a move or --allow-bots (or a recovery code); `-` reads it from stdin; prompted for without echo when needed and not given
    #[arg(long)]
    pub code: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KeysFrom {
    /// This machine's Latchkey (its keychain and database)
    Local,
    /// An OpenBao server, signed in as a host enrolled with `latchkey host add` (no keychain, no database)
    Openbao,
}

#[derive(Debug, Args)]
#[command(after_help = "Variable names by default:\n  \
    OKX:     OKX_API_KEY, OKX_API_SECRET, OKX_API_PASSPHRASE\n  \
    Bybit:   BYBIT_API_KEY, BYBIT_API_SECRET\n  \
    Binance: BINANCE_API_KEY, BINANCE_API_SECRET\n\
    Examples:\n  \
    latchkey run okx-main -- python bot.py\n  \
    latchkey run main hedge --prefix hedge=HEDGE_ -- ./bot      (HEDGE_OKX_API_KEY, …)\n  \
    latchkey run okx-main --env-name EXCHANGE_SECRET=secret -- freqtrade trade\n  \
    latchkey run okx-grid --from openbao --addr https://bao.example.com:8200 \\\n      \
    --role-id-file /etc/latchkey/role-id --secret-id-file /var/lib/grid/secret-id -- ./bot\n\
    The exit code and SIGINT/SIGTERM/SIGHUP pass through; a child killed by a signal gives 128+signal.\n\
    From OpenBao: the token lives in memory only and is renewed; a new version reaches the command as --on-rotate says; \
    while OpenBao cannot be reached the command keeps its key; if the key is removed (revoke, undeliver) or the host's \
    access is, the command is stopped (SIGTERM, --stop-grace, then killed) and run exits 1 saying why.")]
pub struct RunArgs {
    /// The key(s) to hand over, by label (or id; with --from openbao, the label it was delivered under)
    #[arg(required = true, num_args = 1..)]
    pub labels: Vec<String>,
    /// Where the keys come from: this machine's Latchkey, or (on a server) the OpenBao server the desktop delivered them to
    #[arg(long, value_enum, default_value = "local", value_name = "local|openbao")]
    pub from: KeysFrom,
    #[command(flatten)]
    pub bao: BaoHostArgs,
    /// Rename a variable: VAR=PART or VAR=LABEL:PART, PART being key, secret or passphrase
    #[arg(long = "env-name", value_name = "VAR=[LABEL:]PART")]
    pub env_names: Vec<String>,
    /// Put P before the default names: P for every key, or LABEL=P for one key
    #[arg(long = "prefix", value_name = "[LABEL=]P")]
    pub prefixes: Vec<String>,
    /// Write the key to a private file (0600, memory-only, removed when the run ends) instead of the environment; `{file}` in the command becomes its path, also given as LATCHKEY_FILE
    #[arg(long = "as", value_enum, value_name = "FORMAT", conflicts_with_all = ["env_names", "prefixes"])]
    pub format: Option<crate::commands::run::FileFormat>,
    /// When a key given to the command is rotated: restart (SIGTERM, then start again with the new key), signal:NAME (rewrite the --as file, then send NAME, e.g. signal:HUP) or none
    #[arg(long = "on-rotate", default_value = "restart", value_name = "restart|signal:NAME|none")]
    pub on_rotate: String,
    /// Seconds the command gets to exit after SIGTERM on a restart, before it is killed
    #[arg(long = "stop-grace", default_value_t = 10, value_name = "SECONDS")]
    pub stop_grace: u64,
    /// Mask the keys' values in the command's output (the default when stdout is a terminal; the command then writes to a pipe, not the terminal)
    #[arg(long, overrides_with = "no_mask")]
    pub mask: bool,
    /// Leave the command's output as it is, even on a terminal
    #[arg(long = "no-mask", overrides_with = "mask")]
    pub no_mask: bool,
    /// The command and its arguments, after --
    #[arg(last = true, required = true, num_args = 1.., value_name = "CMD")]
    pub command: Vec<String>,
}

/// How a server signs in to OpenBao as a host (`run --from openbao`, `agent --from openbao`).
#[derive(Debug, Args)]
pub struct BaoHostArgs {
    /// --from openbao: the server's address (https, or http on loopback)
    #[arg(long, value_name = "URL", help_heading = "From OpenBao")]
    pub addr: Option<String>,
    /// --from openbao: the KV v2 mount the keys were delivered to [default: secret]
    #[arg(long, value_name = "MOUNT", help_heading = "From OpenBao")]
    pub mount: Option<String>,
    /// --from openbao: the path prefix in the mount, as `latchkey servers set --prefix` set it on the desktop [default: latchkey]
    #[arg(long = "path-prefix", value_name = "P", help_heading = "From OpenBao")]
    pub path_prefix: Option<String>,
    /// --from openbao: the PEM file of a private CA that signed the server's certificate
    #[arg(long, value_name = "FILE", help_heading = "From OpenBao")]
    pub ca_file: Option<std::path::PathBuf>,
    /// --from openbao: the host's role-id (`latchkey host add` prints it); --role-id-file keeps it out of the process list
    #[arg(long, value_name = "ID", conflicts_with = "role_id_file", help_heading = "From OpenBao")]
    pub role_id: Option<String>,
    /// --from openbao: a file holding the host's role-id
    #[arg(long, value_name = "FILE", help_heading = "From OpenBao")]
    pub role_id_file: Option<std::path::PathBuf>,
    /// --from openbao: the file holding the response-wrapped secret-id `latchkey host add` printed. It works once: after the sign-in the file is removed (emptied if it cannot be), as OpenBao Agent's remove_secret_id_file_after_reading does; a file under systemd's $CREDENTIALS_DIRECTORY is left to systemd. Kept when OpenBao could not be reached, so a restart can try again
    #[arg(long, value_name = "FILE", help_heading = "From OpenBao")]
    pub secret_id_file: Option<std::path::PathBuf>,
    /// --from openbao: seconds between two looks at the keys' versions (one metadata read per key); a rotation or a revoke reaches the bot within about this long [default: 2]
    #[arg(long, value_name = "SECONDS", help_heading = "From OpenBao")]
    pub poll: Option<f64>,
}

#[derive(Debug, Args)]
#[command(after_help = "Example (a Freqtrade unit on a VPS, the credential encrypted there with its host key):\n  \
    latchkey export okx-grid --format freqtrade | ssh vps 'sudo systemd-creds encrypt --name=ft-exchange --not-after=2027-01-31 - /etc/credstore.encrypted/ft-exchange'\n\
    The due date goes to stderr; the pipe gets the key and nothing else.")]
pub struct ExportArgs {
    /// The key, by label (or id)
    pub label: String,
    #[arg(long, value_enum)]
    pub format: crate::commands::export::ExportFormat,
    /// The 2FA code (or a recovery code); `-` reads it from stdin; prompted for without echo when not given
    #[arg(long)]
    pub code: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 rotated (the old key revoked, or on the website's checklist where no API deletes it), \
    1 the new key is saved but retiring the old one failed (see the report), 2 usage, 3 refused (a wrong code, a key not in use)."
)]
pub struct RotateArgs {
    /// The keys to rotate, by label (or id): several only where Latchkey holds their masters
    #[arg(required_unless_present = "resume", conflicts_with = "resume")]
    pub keys: Vec<String>,
    /// Finish the rotations a crash interrupted, and nothing else (no code needed)
    #[arg(long)]
    pub resume: bool,
    /// The 2FA code (or a recovery code); `-` reads it from stdin; prompted for without echo when not given
    #[arg(long)]
    pub code: Option<String>,
    /// Save the new key without asking the exchange about it first (a key rotated by hand only)
    #[arg(long)]
    pub no_verify: bool,
    /// Seconds the bots running with the old key (`latchkey run`) get to move to the new one before it is retired
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub grace: u64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "An interrupted revoke (a crash, a kill, a power cut) is finished first by every \
    `latchkey revoke`, and by the app at startup; `--resume` finishes it without starting a new one. \
    Finishing needs no code: it only completes what a verified code started.")]
pub struct RevokeArgs {
    /// The keys to revoke, by label (or id)
    #[arg(required_unless_present_any = ["all", "resume"], conflicts_with_all = ["all", "resume"])]
    pub labels: Vec<String>,
    /// Revoke every key that is not revoked yet
    #[arg(long, conflicts_with = "resume")]
    pub all: bool,
    /// Only finish interrupted revokes (no code needed); with --json prints an array of reports
    #[arg(long, conflicts_with = "code")]
    pub resume: bool,
    /// The 2FA code (or a recovery code); `-` reads it from stdin; prompted for without echo when not given
    #[arg(long)]
    pub code: Option<String>,
    /// Only while 2FA is not set up: the typed confirmation REVOKE (for scripts; asked for when not
    /// given). Refused once 2FA is set up: then only a code revokes
    #[arg(long, value_name = "REVOKE", conflicts_with_all = ["code", "resume"])]
    pub confirm: Option<String>,
    /// For quarantined or still-live keys: wipe the secret here now, without proof that the key is
    /// gone at the exchange (it stays "still live" until you delete it on the website)
    #[arg(long, conflicts_with_all = ["all", "resume"])]
    pub wipe_here: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Latchkey signs one harmless read with the key's own credentials, in its own \
    environment. Only the exchange's invalid-key refusal of that key proves it gone; then the secret is \
    wiped and the key shows as revoked. Any other answer keeps the key and its secret, and says why.")]
pub struct ConfirmDeletedArgs {
    /// The keys you deleted on the exchange's website, by label (or id)
    #[arg(required = true)]
    pub labels: Vec<String>,
    /// The 2FA code (or a recovery code); prompted for without echo when not given
    #[arg(long)]
    pub code: Option<String>,
    /// Only while 2FA is not set up: the typed confirmation REVOKE (see `latchkey revoke --help`)
    #[arg(long, value_name = "REVOKE", conflicts_with = "code")]
    pub confirm: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum BotsCommand {
    /// Let `latchkey run` hand this key to bots (needs a 2FA code; never for a master key)
    Allow {
        /// The key's label (or id)
        label: String,
        /// The 2FA code (or a recovery code); prompted for without echo when not given
        #[arg(long)]
        code: Option<String>,
    },
    /// Stop `latchkey run` from handing this key to bots (no code needed)
    Deny {
        /// The key's label (or id)
        label: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TwoFactorCommand {
    /// Set up 2FA: shows an otpauth URI and a QR code, asks for the first code, prints recovery codes once
    #[command(after_help = "When this database says 2FA is off but the keychain still holds a 2FA secret from an \
        earlier setup (the database was reset or replaced), a current code from that secret is needed, or \
        --destroy-old-seed to destroy it on purpose (audited).\n\
        With --code -, the current code is the first line of stdin and the new secret's first code the next.")]
    Enroll {
        /// When 2FA is already set up: a current code (or a recovery code) to set it up again; `-` reads it from stdin
        #[arg(long)]
        code: Option<String>,
        /// Destroy a 2FA secret the keychain still holds from an earlier setup this database does not know
        #[arg(long, conflicts_with = "code")]
        destroy_old_seed: bool,
    },
    /// Whether 2FA is set up, recovery codes left, lockout
    Status(JsonFlag),
    /// Turn 2FA off (needs a current code)
    Disable {
        /// A current code (or a recovery code); `-` reads it from stdin; prompted for when not given
        #[arg(long)]
        code: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Check the hash chain instead of listing; exit 1 if an entry was changed or removed
    #[arg(long)]
    pub verify: bool,
    /// Accept the log as it stands and anchor its end again (needs a 2FA code; audited), e.g. after
    /// moving a damaged database aside
    #[arg(long, conflicts_with = "verify")]
    pub accept: bool,
    /// With --accept: the 2FA code (or a recovery code); `-` reads it from stdin
    #[arg(long, requires = "accept")]
    pub code: Option<String>,
    /// How many entries to show, newest first
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Reads .env files and shell scripts, shell history, Freqtrade config.json and other JSON,\n\
    Hummingbot conf/ YAML and other YAML, TOML, ccxt scripts (Python, JavaScript, TypeScript) and notes.\n\
    Folders are walked without following symlinks; .git, node_modules, target and virtualenvs are skipped.\n\
    Shows file, line, exchange and a masked key hint, never a secret.\n\
    Exit codes: 0 nothing found, 1 credentials found (so CI and pre-commit hooks fail), 2 a path does not exist.\n\
    Move what it finds into the keychain with `latchkey import FILE --rewrite`.")]
pub struct ScanArgs {
    /// Files and folders to scan
    #[arg(required = true, num_args = 1.., value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Every importable set of credentials in FILE is checked with its exchange (unless --no-verify)\n\
    and stored in the keychain under a new label: <prefix><exchange>-<key hint>-<n>.\n\
    With --rewrite, the imported values are then removed from FILE after an owner-only (0600) backup\n\
    is written beside it (FILE.latchkey-backup-<time>); nothing is rewritten when nothing was imported.\n\
    Exit codes: 0 at least one key imported and none failed, 1 otherwise."
)]
pub struct ImportArgs {
    /// The file to import from (one file: scan folders with `latchkey scan`)
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// Put P before every generated label, e.g. --label-prefix grid- gives grid-okx-7cb9-69a5-1
    #[arg(long, value_name = "P", default_value = "")]
    pub label_prefix: String,
    /// The label to use instead of a generated one (only when the file holds exactly one importable key)
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    #[command(flatten)]
    pub placement: KeyPlacement,
    /// Save without asking the exchange first (not recommended: typos and dead keys go unnoticed)
    #[arg(long)]
    pub no_verify: bool,
    /// After importing, remove the imported values from FILE (an owner-only backup is kept beside it)
    #[arg(long)]
    pub rewrite: bool,
    #[arg(long)]
    pub json: bool,
}

/// Where a key is used and how often it is rotated: the same options for `add` and `import`.
#[derive(Debug, Args)]
pub struct KeyPlacement {
    /// Which system the key belongs to [default: live; custom when --base-url is given]
    #[arg(long = "env", value_enum)]
    pub environment: Option<EnvArg>,
    /// The API base URL for --env custom (https, or http on loopback for a local simulator)
    #[arg(long)]
    pub base_url: Option<String>,
    /// Rotation policy in days [default: the app's setting, 90 unless changed]
    #[arg(long)]
    pub rotation_days: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum ServersCommand {
    /// Save the server's address and Latchkey's credential (a token, or a userpass password: from a no-echo prompt or one line of stdin, kept in the keychain); the connection is tested first
    #[command(after_help = "Examples:\n  \
        latchkey servers set --addr https://bao.example.com:8200\n  \
        printf '%s\\n' \"$BAO_TOKEN\" | latchkey servers set --addr https://bao.example.com:8200 --prefix latchkey/desk\n  \
        latchkey servers set --addr https://bao.internal:8200 --userpass latchkey-desk --ca-file /etc/ssl/team-ca.pem\n\
        Keys go to <mount>/data/<prefix>/<label>. The token's policy needs: create, update, read on\n\
        <mount>/data/<prefix>/*; create, update, read, delete on <mount>/metadata/<prefix>/*; update on\n\
        <mount>/destroy/<prefix>/*. `latchkey servers test` says which is missing.")]
    Set(ServersSetArgs),
    /// Check the saved setup: reachable, TLS, unsealed, credential accepted, KV v2 mount, the policy's paths
    Test(JsonFlag),
}

#[derive(Debug, Args)]
pub struct ServersSetArgs {
    /// https://host:port, or http:// on this machine only (a local dev server)
    #[arg(long)]
    pub addr: String,
    /// The KV version 2 mount
    #[arg(long, default_value = "secret")]
    pub mount: String,
    /// The path prefix under the mount; keys go to <mount>/data/<prefix>/<label>
    #[arg(long, default_value = "latchkey")]
    pub prefix: String,
    /// Sign in as this userpass user (the password is asked for) instead of with a token
    #[arg(long, value_name = "USER")]
    pub userpass: Option<String>,
    /// Where the userpass method is enabled (auth/<path>)
    #[arg(long, default_value = "userpass", requires = "userpass", value_name = "PATH")]
    pub userpass_mount: String,
    /// The PEM file of the CA that signed the server's certificate (a private CA)
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Versions OpenBao keeps per key (2 to 20)
    #[arg(long, default_value_t = 5)]
    pub max_versions: u32,
    /// Save without testing the connection (e.g. the server is not up yet)
    #[arg(long)]
    pub no_test: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 every key done, 1 a key failed (the others are still done; see the messages), \
    2 usage (no server set up, a label that cannot be a path), 3 refused (a key bots may not use, or not in use).")]
pub struct DeliverArgs {
    /// The keys, by label (or id)
    #[arg(required = true)]
    pub labels: Vec<String>,
    /// `deliver` only: the 2FA code (or a recovery code); `-` reads it from stdin; prompted for without echo when not given
    #[arg(long)]
    pub code: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Create the host's AppRole and a policy that reads exactly these keys; prints its role-id and a wrapped secret-id (single use, valid 10 minutes) to paste on the server
    #[command(after_help = "Example:\n  latchkey host add vps-frankfurt-1 --keys okx-grid bybit-dca\n\
        On the server, the role-id and the wrapped secret-id sign in once (`bao unwrap`, then AppRole login).\n\
        Latchkey's token also needs: create, update, read, delete on sys/policies/acl/latchkey-host-* and\n\
        auth/approle/role/latchkey-*; list on auth/approle/role; update on auth/token/revoke-accessor.\n\
        AppRole must be enabled (`bao auth enable approle`). Needs a 2FA code: the host's bots get the keys.")]
    Add {
        /// The host's name, e.g. vps-frankfurt-1
        name: String,
        /// The keys it may read, by label (or id); each must be one bots may use
        #[arg(long, required = true, num_args = 1..)]
        keys: Vec<String>,
        /// The 2FA code (or a recovery code); `-` reads it from stdin; prompted for without echo when not given
        #[arg(long)]
        code: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The hosts Latchkey made on the server, and the keys each may read
    List(JsonFlag),
    /// Delete the host's AppRole and policy: no new sign-ins, and the tokens it holds read nothing
    Remove {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AgentArgs {
    #[command(subcommand)]
    pub command: Option<AgentCommand>,
    /// Where to listen (a loopback address only)
    #[arg(long, env = "LATCHKEY_AGENT_LISTEN", default_value = "127.0.0.1:18300")]
    pub listen: std::net::SocketAddr,
    /// Whose keys and bots: this machine's Latchkey, or (on a server) what the desktop delivered to this host through OpenBao
    #[arg(long, value_enum, default_value = "local", value_name = "local|openbao")]
    pub from: KeysFrom,
    #[command(flatten)]
    pub bao: BaoHostArgs,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Issue placeholder credentials for a bot on a key bots may use; prints them once with the base URL to give the bot
    Issue {
        /// The key's label
        label: String,
        /// The bot's name (letters, digits, '-', '_', '.')
        #[arg(long)]
        bot: String,
        /// The agent's address the bot will use
        #[arg(long, env = "LATCHKEY_AGENT_LISTEN", default_value = "127.0.0.1:18300")]
        listen: std::net::SocketAddr,
        /// For a bot on a server: the OpenBao host (`latchkey host add`) whose agent (`latchkey agent --from openbao`) serves it
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a bot's placeholder credentials: the agent refuses them from the next request on
    RevokeBot {
        /// The bot's name
        name: String,
    },
    /// The bots that have placeholder credentials
    Bots(JsonFlag),
    /// Before a revoke: for some minutes the key's bots may only cancel, read and place reduce-only orders
    Drain {
        /// The key's label
        label: String,
        #[arg(long, default_value_t = 10)]
        minutes: u32,
    },
    /// Narrow what the key's bots may do through the agent (withdrawals, transfers, sub-account and key management are always refused)
    Policy {
        /// The key's label
        label: String,
        /// Only these endpoints (`GET /api/v5/account/balance`, or a path for any method); repeat it
        #[arg(long = "endpoint")]
        endpoints: Vec<String>,
        /// Only orders on these symbols, as the exchange names them; repeat it
        #[arg(long = "symbol")]
        symbols: Vec<String>,
        /// At most this many orders per minute
        #[arg(long)]
        orders_per_minute: Option<u32>,
    },
}
