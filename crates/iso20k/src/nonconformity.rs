//! `iso20k nonconformity close`: closes a nonconformity on the server's database through the
//! same gate as the server's API and pages, so a loop that is not done is refused here too.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::bail;

use crate::cli::NcCloseArgs;
use crate::server::{open, org, runtime};

pub fn close(args: NcCloseArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let org = org(&store, &args.org).await?;
        let on = args.on.unwrap_or_else(crate::today);
        let closed = iso20k_server::nc::close(
            &store,
            &org,
            "iso20k nonconformity close",
            args.id.trim(),
            on,
            None,
        )
        .await;
        match closed {
            Ok(record) => {
                writeln!(
                    anstream::stdout(),
                    "Closed {} of `{}` on {on} (version {}).",
                    record.key,
                    org.slug,
                    record.version
                )?;
                Ok(ExitCode::SUCCESS)
            }
            Err(iso20k_server::ApiError::Internal(e)) => Err(e),
            // Unknown, not ready, closed already: said in words, exit 2.
            Err(e) => bail!("{e}"),
        }
    })
}
