//! The simulation's random stream: SplitMix64 from a seed, or a fuzzer's
//! bytes. Every choice of a run (scheduling, faults, servers' misbehaviour)
//! is drawn from it, so the same seed or bytes replay the same run.

#[derive(Debug, Clone)]
pub(crate) enum Rng {
    Seeded(u64),
    /// Each draw takes as few bytes as its range needs. Once they run out, a
    /// seeded stream takes over: zeros would make every chance certain (a
    /// spurious `Pending` on every read), a livelock of the harness's making.
    Bytes {
        data: Vec<u8>,
        at: usize,
    },
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self::Seeded(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.below(u64::MAX)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        match self {
            Self::Seeded(state) => splitmix(state) % n,
            Self::Bytes { data, at } if *at >= data.len() => {
                let seed = data.iter().fold(data.len() as u64, |h, &b| h.rotate_left(8) ^ u64::from(b));
                *self = Self::Seeded(seed);
                self.below(n)
            }
            Self::Bytes { data, at } => {
                let width = (64 - (n - 1).leading_zeros()).div_ceil(8) as usize;
                let mut value = 0u64;
                for _ in 0..width {
                    value = (value << 8) | u64::from(data.get(*at).copied().unwrap_or(0));
                    *at += 1;
                }
                value % n
            }
        }
    }

    /// A second stream: a new seed, or the bytes this one has not used.
    pub(crate) fn split(&mut self) -> Self {
        match self {
            Self::Seeded(_) => Self::Seeded(self.next()),
            Self::Bytes { data, at } => Self::Bytes { data: data.split_off((*at).min(data.len())), at: 0 },
        }
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
