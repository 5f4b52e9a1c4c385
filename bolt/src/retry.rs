//! Retrying transactions: jittered exponential back-off (1 s, ×2, ±20 %), bounded by a total time
//! counted from the first failure and optionally by a number of attempts.

use crate::Error;
use std::future::Future;
use std::time::{Duration, Instant};

/// How retryable failures are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Stop retrying once this much time passed since the first failure.
    pub max_retry_time: Duration,
    /// Most attempts in total (`None` = only the time limit).
    pub max_attempts: Option<usize>,
    /// First delay.
    pub initial_delay: Duration,
    /// Delay multiplier.
    pub multiplier: f64,
    /// Jitter factor: each delay is drawn from delay × [1 − j, 1 + j].
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retry_time: Duration::from_secs(30),
            max_attempts: None,
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

/// A small xorshift generator: jitter needs no cryptographic quality, and this avoids a dependency.
pub(crate) fn random_unit() -> f64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            (t.as_nanos() as u64) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

impl RetryPolicy {
    /// The delay before retry number `n` (0-based), with jitter.
    pub fn delay(&self, n: u32) -> Duration {
        let base = self.initial_delay.as_secs_f64() * self.multiplier.powi(n as i32);
        let j = 1.0 + self.jitter * (2.0 * random_unit() - 1.0);
        Duration::from_secs_f64((base * j).clamp(0.0, 3600.0))
    }

    /// Runs `attempt` until it succeeds, fails with a non-retryable error, or the limits are reached.
    /// `retry_unknown` also retries a connection loss with a commit in flight (for idempotent work).
    /// `on_error` sees every failure first (routing uses it to forget servers).
    pub async fn run<T, F, Fut>(
        &self,
        retry_unknown: bool,
        mut attempt: F,
        mut on_error: impl FnMut(&Error),
    ) -> Result<T, Error>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut first_failure: Option<Instant> = None;
        let mut attempts = 0usize;
        let mut retries = 0u32;
        loop {
            attempts += 1;
            let err = match attempt(retries).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            on_error(&err);
            let retryable = err.is_retryable() || (retry_unknown && err.is_unknown_outcome());
            let started = *first_failure.get_or_insert_with(Instant::now);
            // IGNORED means another transaction on the connection failed; re-sending costs no back-off and
            // is not counted as an attempt.
            let ignored = matches!(err, Error::Ignored);
            if ignored {
                attempts -= 1;
            }
            if !retryable
                || self.max_attempts.is_some_and(|m| attempts >= m)
                || started.elapsed() >= self.max_retry_time
            {
                return Err(err);
            }
            if !ignored {
                let d = self.delay(retries);
                tracing::warn!(error = %err, delay_ms = d.as_millis() as u64, attempt = attempts, "retrying transaction");
                tokio::time::sleep(d).await;
                retries += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient() -> Error {
        Error::Server {
            code: "Neo.TransientError.General.DatabaseUnavailable".into(),
            message: String::new(),
            gql_status: None,
        }
    }

    #[test]
    fn delays_grow_with_jitter() {
        let p = RetryPolicy::default();
        for n in 0..5 {
            let d = p.delay(n).as_secs_f64();
            let base = 2f64.powi(n as i32);
            assert!(d >= base * 0.8 - 1e-9 && d <= base * 1.2 + 1e-9, "{n}: {d}");
        }
    }

    #[tokio::test]
    async fn retries_until_success_or_limit() {
        let p = RetryPolicy {
            initial_delay: Duration::from_millis(1),
            max_attempts: Some(3),
            ..Default::default()
        };
        let mut calls = 0;
        let r: Result<u32, Error> = p
            .run(
                false,
                |_| {
                    calls += 1;
                    let c = calls;
                    async move { if c < 3 { Err(transient()) } else { Ok(c) } }
                },
                |_| {},
            )
            .await;
        assert_eq!(r.unwrap(), 3);
        let mut calls = 0;
        let r: Result<u32, Error> = p
            .run(
                false,
                |_| {
                    calls += 1;
                    async { Err(transient()) }
                },
                |_| {},
            )
            .await;
        assert!(r.is_err());
        assert_eq!(calls, 3);
        let mut calls = 0;
        let r: Result<u32, Error> = p
            .run(
                false,
                |_| {
                    calls += 1;
                    async {
                        Err(Error::Server {
                            code: "Neo.ClientError.Statement.SyntaxError".into(),
                            message: String::new(),
                            gql_status: None,
                        })
                    }
                },
                |_| {},
            )
            .await;
        assert!(r.is_err());
        assert_eq!(calls, 1);
    }
}
