//! The node and the simulator as real child processes: spawn, wait for readiness (the
//! "listening on" line each prints on stderr), signal (SIGKILL, SIGSTOP/SIGCONT, SIGTERM) and
//! reap. Every stderr line is copied into a log file in the working directory, so a failed
//! campaign can be read afterwards.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use rustix::process::{kill_process, Pid, Signal};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// A running child process.
#[derive(Debug)]
pub struct Proc {
    name: &'static str,
    child: Child,
    pid: Pid,
    ready: Arc<AtomicBool>,
    ready_signal: Arc<tokio::sync::Notify>,
}

impl Proc {
    /// Starts `program args...` with stderr appended to `log`. `env` is added to the child's.
    pub fn spawn(
        name: &'static str,
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(program);
        command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        // A campaign that ends early (an error) must not leave a node or simulator behind.
        command.kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().with_context(|| format!("starting {}", program.display()))?;
        let raw = child.id().context("child has no pid")?;
        let pid = Pid::from_raw(i32::try_from(raw)?).context("pid 0")?;
        let stderr = child.stderr.take().context("child stderr")?;
        let ready = Arc::new(AtomicBool::new(false));
        let ready_signal = Arc::new(tokio::sync::Notify::new());
        let (flag, notify) = (Arc::clone(&ready), Arc::clone(&ready_signal));
        tokio::spawn(async move {
            let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(&log).await.ok();
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains(": listening on ") {
                    flag.store(true, Ordering::SeqCst);
                    notify.notify_waiters();
                }
                if let Some(f) = file.as_mut() {
                    let _ = f.write_all(format!("{line}\n").as_bytes()).await;
                }
            }
            // End of stderr: wake a waiter so it sees the exit instead of timing out.
            notify.notify_waiters();
        });
        Ok(Self { name, child, pid, ready, ready_signal })
    }

    /// Waits until the child printed its "listening on" line (recovery done, sockets bound).
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.ready.load(Ordering::SeqCst) {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited before it was ready: {status}", self.name);
            }
            let notified = self.ready_signal.notified();
            if tokio::time::timeout_at(deadline, async {
                tokio::select! {
                    () = notified => {}
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            })
            .await
            .is_err()
            {
                bail!("{} not ready within {timeout:?}", self.name);
            }
        }
        Ok(())
    }

    /// Sends `signal` to the child.
    pub fn signal(&self, signal: Signal) -> anyhow::Result<()> {
        kill_process(self.pid, signal).with_context(|| format!("signal {signal:?} to {}", self.name))
    }

    /// Waits up to `timeout` for the child to exit; `None` if it did not.
    pub async fn wait_exit(&mut self, timeout: Duration) -> anyhow::Result<Option<ExitStatus>> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Ok(Some(status?)),
            Err(_) => Ok(None),
        }
    }

    /// SIGKILL and reap.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        // A stopped process dies of SIGKILL too.
        let _ = self.signal(Signal::KILL);
        self.child.wait().await?;
        Ok(())
    }
}
