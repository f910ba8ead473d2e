//! `watchfire constituency`: the networks, AS numbers, domain suffixes and countries each
//! organisation claims, and the operator's approvals, on the store directly (like `admin init`;
//! the API does the same for admins over HTTP). The operator's decisions are recorded as made by
//! `operator`.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use watchfire_server::accounts::{Accounts, Organisation};
use watchfire_store::Store;
use watchfire_warn::{Claim, ClaimKind};

/// Who the claims and decisions made here are recorded as.
const OPERATOR: &str = "operator";

/// Arguments of `watchfire constituency`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Approves a claim; refused when it overlaps another organisation's approved claim.
    Approve(IdArgs),

    /// Claims a value for an organisation: `claim --org cert-a cidr 192.0.2.0/24` (pending until approved).
    Claim(ClaimArgs),

    /// Lists the claims (id, organisation, kind, value, state), of every organisation or one.
    List(ListArgs),

    /// Rejects a pending claim, or withdraws an approved one.
    Reject(IdArgs),

    /// Removes a claim.
    Remove(IdArgs),
}

#[derive(Debug, clap::Args)]
struct IdArgs {
    /// The claim's id.
    id: String,
}

#[derive(Debug, clap::Args)]
struct ClaimArgs {
    /// The organisation claiming.
    #[arg(long)]
    org: String,
    /// What is claimed: cidr, asn, domain or country.
    kind: ClaimKind,
    /// The network, AS number, domain suffix or ISO 3166-1 alpha-2 country code.
    value: String,
    /// Approve the claim at once.
    #[arg(long)]
    approve: bool,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only this organisation's claims.
    #[arg(long)]
    org: Option<String>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `watchfire constituency`.
pub fn run(args: &Args, data: &Path, database: Option<&str>) -> Result<ExitCode> {
    let store: Arc<dyn Store> = Arc::from(watchfire_store::open(data, database)?);
    let accounts = Accounts::new(Arc::clone(&store));
    let orgs = accounts.orgs().map_err(anyhow::Error::msg)?;
    let now = watchfire_store::now_micros();
    let decided = match &args.command {
        Command::List(list) => return print_list(&*store, &orgs, list),
        Command::Claim(claim) => {
            let org = org_named(&orgs, &claim.org)?;
            let made =
                watchfire_warn::claim(&*store, org.id, claim.kind, &claim.value, OPERATOR, now)
                    .context("constituency claim")?;
            match claim.approve {
                true => watchfire_warn::approve(&*store, &made.id, OPERATOR, now)
                    .context("constituency approve")?,
                false => made,
            }
        }
        Command::Approve(id) => watchfire_warn::approve(&*store, &id.id, OPERATOR, now)
            .context("constituency approve")?,
        Command::Reject(id) => {
            watchfire_warn::reject(&*store, &id.id, OPERATOR, now).context("constituency reject")?
        }
        Command::Remove(id) => {
            if !watchfire_warn::remove(&*store, &id.id)? {
                bail!("constituency remove: no claim {}", id.id);
            }
            println!("removed {}", id.id);
            return Ok(ExitCode::SUCCESS);
        }
    };
    println!("{}", row(&decided, &orgs));
    Ok(ExitCode::SUCCESS)
}

fn org_named<'a>(orgs: &'a [Organisation], name: &str) -> Result<&'a Organisation> {
    orgs.iter().find(|org| org.name == name).with_context(|| format!("no organisation {name:?}"))
}

fn org_name(orgs: &[Organisation], claim: &Claim) -> String {
    orgs.iter()
        .find(|org| org.id == claim.org)
        .map_or_else(|| claim.org.0.to_string(), |org| org.name.clone())
}

fn row(claim: &Claim, orgs: &[Organisation]) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        claim.id,
        org_name(orgs, claim),
        claim.kind(),
        claim.value(),
        claim.state
    )
}

fn print_list(store: &dyn Store, orgs: &[Organisation], args: &ListArgs) -> Result<ExitCode> {
    let only = args.org.as_deref().map(|name| org_named(orgs, name)).transpose()?;
    let claims = watchfire_warn::claims(store).context("constituency list")?;
    let mut out = BufWriter::new(io::stdout().lock());
    if !args.json {
        writeln!(out, "id\torganisation\tkind\tvalue\tstate")?;
    }
    for claim in claims.iter().filter(|claim| only.is_none_or(|org| org.id == claim.org)) {
        match args.json {
            true => {
                let line = serde_json::json!({
                    "id": claim.id,
                    "organisation": org_name(orgs, claim),
                    "kind": claim.kind(),
                    "value": claim.value(),
                    "state": claim.state,
                    "requested_by": claim.requested_by,
                    "requested_micros": claim.requested_micros,
                    "decided_by": claim.decided_by,
                    "decided_micros": claim.decided_micros,
                });
                writeln!(out, "{line}")?;
            }
            false => writeln!(out, "{}", row(claim, orgs))?,
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
