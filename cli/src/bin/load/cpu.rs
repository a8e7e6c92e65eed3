//! CPU time of this process (user and system), from `/proc/self/stat`.

use std::time::Duration;

/// User and system CPU time used so far, if the platform tells.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CpuTime {
    pub user: Duration,
    pub system: Duration,
}

impl CpuTime {
    /// Reads the process's CPU time (all threads). Linux reports it in
    /// USER_HZ ticks, 100 per second.
    pub(crate) fn now() -> Option<CpuTime> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        let (user, system) = (ticks(11)?, ticks(12)?);
        Some(CpuTime { user: Duration::from_millis(user * 10), system: Duration::from_millis(system * 10) })
    }

    /// The CPU time used since `earlier`.
    pub(crate) fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }

    pub(crate) fn total(self) -> Duration {
        self.user + self.system
    }
}
