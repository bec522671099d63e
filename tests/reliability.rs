//! Fault injection against real nats-server processes, judged by the checker
//! (`support::checker`): every scenario computes the articles it must end with up front, runs
//! with randomized timing, then reads every output stream completely. A run passes only with
//! nothing lost, nothing duplicated, nothing unexpected, every poison page dead-lettered with
//! its code, and a clean consumer (nothing pending, nothing awaiting ack).
//!
//! A few runs per scenario by default; many behind a flag, with the figures for RELIABILITY.md:
//!
//! ```sh
//! PAGEWIRE_RELIABILITY_RUNS=50 PAGEWIRE_RELIABILITY_REPORT=/tmp/rel.md \
//!     cargo test --release --test reliability -- --nocapture
//! ```
//!
//! `PAGEWIRE_RELIABILITY_SEED=<n>` replays the timing of a failed run (the seed is in the
//! failure message).
//!
//! Fixed sleeps appear only as the length of a fault (how long a link stays cut, a process
//! stopped); everything else waits for an event with a deadline.

mod support;

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream::DiscardPolicy};

use support::checker::{
    check, client, client_at, count, drained_within, healthy_pages, poison_page, publish_inputs,
    publish_to, runs, settings, settings_at, spawn_publisher, wait_drained, wait_for, AckTap,
    ChildService, Expected, InProcess, Input, Reply, Rng, RunResult, Table, WAIT,
};
use support::proxy::Proxy;
use support::NatsCluster;
use support::NatsServer;

/// The broker's default `max_payload`: every output must fit.
const MAX_PAYLOAD: usize = 1024 * 1024;

/// Overrides every scenario uses on top of the test defaults (ack wait 3s, nak 100ms..1s):
/// enough deliveries that a page survives several faults in one run before it would be
/// dead-lettered as `retries_exhausted`.
const BASE: &[(&str, &str)] = &[("PAGEWIRE_INPUT__MAX_DELIVER", "20")];

fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    BASE.iter().chain(extra).copied().collect()
}

/// Waits until the page-level archive holds more than `since` pages (the service is making
/// progress) or all `total` of them; returns the count.
async fn progressed(js: &jetstream::Context, since: u64, total: u64) -> u64 {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = count(js, "PAGES_ARCHIVE").await;
        if now > since || now >= total {
            return now;
        }
        assert!(Instant::now() < deadline, "no progress past {since} pages");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (briefly) until the consumer has pages delivered and not yet acked; their number,
/// or 0 if the service finished the burst before one was seen.
async fn ack_pending_soon(js: &jetstream::Context) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut pending = 0;
    while Instant::now() < deadline {
        if let Ok(s) = js.get_stream("PAGES").await {
            if let Ok(info) = s.consumer_info("pagewire").await {
                pending = info.num_ack_pending;
                if pending >= 1 {
                    return pending;
                }
            }
        }
    }
    pending
}

fn last(seqs: &[u64]) -> u64 {
    seqs.iter().copied().max().unwrap_or(0)
}

// --- 1 ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_service_sigkilled_mid_batch_loses_and_duplicates_nothing() {
    let mut table = Table::new("1. service SIGKILL mid-batch, restart");
    for run in 0..runs(2) {
        let mut rng = Rng::for_run("s1", run);
        let server = NatsServer::start();
        let (_c, js) = client(&server).await;
        let extra = with(&[]);
        let s = settings(&server, &extra);
        let inputs = healthy_pages(40);
        let expected = Expected::new(&s, MAX_PAYLOAD, &inputs);

        let mut svc = ChildService::start(&server, &extra);
        svc.wait_log("pagewire consuming").await;
        let kills = rng.range(1, 3) as usize;
        let chunk = inputs.len() / (kills + 1);
        let mut seqs = Vec::new();
        let mut in_flight_at_kill = Vec::new();
        for k in 0..kills {
            // A burst, and the kill as soon as pages are delivered and not yet acked (their
            // PubAcks or acks in flight), a random moment later.
            let burst = inputs[k * chunk..(k + 1) * chunk].to_vec();
            let publisher =
                spawn_publisher(js.clone(), burst, k * chunk, rng.clone(), Duration::ZERO);
            let pending = ack_pending_soon(&js).await;
            tokio::time::sleep(rng.duration(Duration::ZERO, Duration::from_millis(20))).await;
            svc.kill().await;
            in_flight_at_kill.push(pending);
            seqs.extend(publisher.await.expect("publisher"));
            svc = ChildService::start(&server, &extra);
            // Killed next time while consuming, not while starting up.
            svc.wait_log("pagewire consuming").await;
        }
        let restarted = Instant::now();
        seqs.extend(
            publish_inputs(
                &js,
                &inputs[kills * chunk..],
                kills * chunk,
                &mut rng,
                Duration::from_millis(5),
            )
            .await,
        );
        wait_drained(&js, last(&seqs)).await;
        let recovery = restarted.elapsed();
        svc.terminate().await;

        let report = check(&js, &s, &expected, &seqs).await;
        report.assert_clean(&format!("run {run}, seed {}", rng.seed));
        table.push(RunResult {
            report,
            recovery,
            note: format!("{kills} kills, pages awaiting ack at each {in_flight_at_kill:?}"),
        });
    }
    table.print();
}

// --- 2 ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s2_sigterm_drains_and_nothing_is_redelivered() {
    let mut table = Table::new("2. SIGTERM drain, restart");
    for run in 0..runs(2) {
        let mut rng = Rng::for_run("s2", run);
        let server = NatsServer::start();
        let (_c, js) = client(&server).await;
        let extra = with(&[]);
        let s = settings(&server, &extra);
        let inputs = healthy_pages(40);
        let expected = Expected::new(&s, MAX_PAYLOAD, &inputs);

        let first = ChildService::start(&server, &extra);
        first.wait_log("pagewire consuming").await;
        let publisher = spawn_publisher(
            js.clone(),
            inputs.clone(),
            0,
            rng.clone(),
            Duration::from_millis(40),
        );
        progressed(&js, 0, inputs.len() as u64).await;
        tokio::time::sleep(rng.duration(Duration::ZERO, Duration::from_millis(300))).await;
        first.terminate().await;

        // Drained: everything delivered to the first instance was acked, nothing is owed.
        let info = js
            .get_stream("PAGES")
            .await
            .expect("input stream")
            .consumer_info("pagewire")
            .await
            .expect("consumer info")
            .clone();
        assert_eq!(info.num_ack_pending, 0, "left unacked at exit: {info:?}");
        assert_eq!(
            info.ack_floor.stream_sequence, info.delivered.stream_sequence,
            "every delivered page acked: {info:?}"
        );

        let second = ChildService::start(&server, &extra);
        let restarted = Instant::now();
        second.wait_log("pagewire consuming").await;
        let seqs = publisher.await.expect("publisher");
        wait_drained(&js, last(&seqs)).await;
        let recovery = restarted.elapsed();
        second.terminate().await;

        let report = check(&js, &s, &expected, &seqs).await;
        report.assert_clean(&format!("run {run}, seed {}", rng.seed));
        assert_eq!(
            report.redeliveries, 0,
            "run {run}: a drained page was delivered again"
        );
        table.push(RunResult {
            report,
            recovery,
            note: format!(
                "{} pages done by the first instance",
                info.delivered.stream_sequence
            ),
        });
    }
    table.print();
}

// --- 3 ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_a_replica_stopped_past_the_ack_wait_duplicates_nothing() {
    let mut table = Table::new("3. two replicas, one SIGSTOPped > ack wait");
    let ack_wait = Duration::from_secs(2);
    for run in 0..runs(2) {
        let mut rng = Rng::for_run("s3", run);
        let server = NatsServer::start();
        let (_c, js) = client(&server).await;
        let common = with(&[("PAGEWIRE_INPUT__ACK_WAIT", "2s")]);
        let s = settings(&server, &common);
        let inputs = healthy_pages(50);
        let expected = Expected::new(&s, MAX_PAYLOAD, &inputs);

        // Replica A keeps one pull request open for a while, so it is holding one when stopped.
        let batch = rng.range(4, 12).to_string();
        let a_extra: Vec<(&str, &str)> = common
            .iter()
            .copied()
            .chain([
                ("PAGEWIRE_INPUT__PULL_EXPIRES", "5s"),
                ("PAGEWIRE_INPUT__BATCH_SIZE", batch.as_str()),
                ("PAGEWIRE_LIMITS__MAX_IN_FLIGHT", batch.as_str()),
            ])
            .collect();
        let a = ChildService::start(&server, &a_extra);
        a.wait_log("pagewire consuming").await;
        let input = js.get_stream("PAGES").await.expect("input stream");
        // Stop A while its pull request is open at the server (retry if it was between two).
        loop {
            wait_for("replica A's pull request", || {
                let input = input.clone();
                async move {
                    input
                        .consumer_info("pagewire")
                        .await
                        .is_ok_and(|i| i.num_waiting >= 1)
                }
            })
            .await;
            a.signal("STOP");
            let waiting = input
                .consumer_info("pagewire")
                .await
                .map(|i| i.num_waiting)
                .unwrap_or(0);
            if waiting >= 1 {
                break;
            }
            a.signal("CONT");
        }
        let stopped = Instant::now();

        // A burst while A is stopped: its open request takes a batch it cannot process.
        let burst = rng.range(15, 30) as usize;
        let mut seqs = publish_inputs(&js, &inputs[..burst], 0, &mut rng, Duration::ZERO).await;
        wait_for("the stopped replica holding pages", || {
            let input = input.clone();
            async move {
                input
                    .consumer_info("pagewire")
                    .await
                    .is_ok_and(|i| i.num_ack_pending >= 1)
            }
        })
        .await;
        let b = ChildService::start(&server, &common);
        b.wait_log("pagewire consuming").await;

        // Past the ack wait: JetStream redelivers A's pages to B.
        let stop_for = ack_wait + rng.duration(Duration::from_millis(500), Duration::from_secs(2));
        tokio::time::sleep(stop_for.saturating_sub(stopped.elapsed())).await;
        a.signal("CONT");
        let resumed = Instant::now();

        // Both share the rest; A publishes its stale batch (deduplicated) and acks late.
        seqs.extend(
            publish_inputs(
                &js,
                &inputs[burst..],
                burst,
                &mut rng,
                Duration::from_millis(10),
            )
            .await,
        );
        wait_drained(&js, last(&seqs)).await;
        let recovery = resumed.elapsed();
        a.terminate().await;
        b.terminate().await;

        let report = check(&js, &s, &expected, &seqs).await;
        report.assert_clean(&format!("run {run}, seed {}", rng.seed));
        assert!(
            report.redeliveries >= 1,
            "run {run}: the stopped replica's pages were redelivered"
        );
        table.push(RunResult {
            report,
            recovery,
            note: format!("stopped {stop_for:?}, batch {batch}, burst {burst}"),
        });
    }
    table.print();
}

// --- 4 ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_the_broker_sigkilled_and_restarted_loses_nothing() {
    let mut table = Table::new("4. nats-server SIGKILL + restart (file store)");
    for run in 0..runs(2) {
        let mut rng = Rng::for_run("s4", run);
        let mut server = NatsServer::start();
        let (_c, js) = client(&server).await;
        let extra = with(&[]);
        let s = settings(&server, &extra);
        let busy = 60;
        let inputs = healthy_pages(busy + 5);
        let expected = Expected::new(&s, MAX_PAYLOAD, &inputs);
        let svc = InProcess::start(s.clone()).await;

        let publisher = spawn_publisher(
            js.clone(),
            inputs[..busy].to_vec(),
            0,
            rng.clone(),
            Duration::from_millis(20),
        );
        let restarts = rng.range(2, 3);
        let mut seen = 0;
        for _ in 0..restarts {
            seen = progressed(&js, seen, busy as u64).await;
            tokio::time::sleep(rng.duration(Duration::ZERO, Duration::from_millis(400))).await;
            let down = rng.duration(Duration::ZERO, Duration::from_millis(1000));
            tokio::task::block_in_place(|| server.kill());
            tokio::time::sleep(down).await;
            tokio::task::block_in_place(|| server.spawn());
        }
        let restarted = Instant::now();
        let mut seqs = publisher.await.expect("publisher");
        wait_drained(&js, last(&seqs)).await;
        let recovery = restarted.elapsed();

        // Once more while the service is idle; then new pages still flow.
        tokio::task::block_in_place(|| server.restart());
        wait_for("the service ready again", || {
            let s = svc.state.clone();
            async move { s.is_ready() }
        })
        .await;
        seqs.extend(publish_inputs(&js, &inputs[busy..], busy, &mut rng, Duration::ZERO).await);
        wait_drained(&js, last(&seqs)).await;
        assert!(
            svc.state.snapshot().disconnects >= 1,
            "the restarts were noticed"
        );
        svc.stop().await;

        let report = check(&js, &s, &expected, &seqs).await;
        report.assert_clean(&format!("run {run}, seed {}", rng.seed));
        table.push(RunResult {
            report,
            recovery,
            note: format!("{restarts} restarts while busy, 1 idle"),
        });
    }
    table.print();
}

// --- 5 ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_a_three_node_cluster_with_r3_streams_survives_node_restarts() {
    let mut table = Table::new("5. 3-node cluster, R3: node SIGKILL + rolling restart");
    for run in 0..runs(1) {
        let mut rng = Rng::for_run("s5", run);
        let mut cluster = tokio::task::block_in_place(|| NatsCluster::start(3));
        let urls = cluster.urls().join(",");
        let (_c, js) = client_at(&urls).await;
        let extra = with(&[("PAGEWIRE_OUTPUT__REPLICAS", "3")]);
        let s = settings_at(&urls, &extra);
        let inputs = healthy_pages(75);
        let expected = Expected::new(&s, MAX_PAYLOAD, &inputs);
        let svc = InProcess::start(s.clone()).await;

        // One node SIGKILLed and brought back, then a rolling restart (SIGTERM, start) of all
        // three; each fault lands while a burst of pages is in flight.
        let victim = rng.range(0, 2) as usize;
        let faults: Vec<(usize, bool)> = std::iter::once((victim, true))
            .chain((0..3).map(|i| (i, false)))
            .collect();
        let chunk = inputs.len() / (faults.len() + 1);
        let mut seqs = Vec::new();
        let mut in_flight_at_fault = Vec::new();
        for (k, &(node, kill)) in faults.iter().enumerate() {
            let burst = inputs[k * chunk..(k + 1) * chunk].to_vec();
            let publisher =
                spawn_publisher(js.clone(), burst, k * chunk, rng.clone(), Duration::ZERO);
            in_flight_at_fault.push(ack_pending_soon(&js).await);
            if kill {
                tokio::task::block_in_place(|| cluster.kill(node));
                tokio::time::sleep(
                    rng.duration(Duration::from_millis(200), Duration::from_millis(1500)),
                )
                .await;
            } else {
                tokio::task::block_in_place(|| cluster.stop(node));
            }
            // Returns once the node is healthy again: rejoined and caught up.
            tokio::task::block_in_place(|| cluster.start_node(node));
            seqs.extend(publisher.await.expect("publisher"));
        }
        let restarted = Instant::now();
        let n = faults.len();
        seqs.extend(
            publish_inputs(
                &js,
                &inputs[n * chunk..],
                n * chunk,
                &mut rng,
                Duration::from_millis(5),
            )
            .await,
        );
        wait_drained(&js, last(&seqs)).await;
        let recovery = restarted.elapsed();
        svc.stop().await;

        let report = check(&js, &s, &expected, &seqs).await;
        report.assert_clean(&format!("run {run}, seed {}", rng.seed));
        table.push(RunResult {
            report,
            recovery,
            note: format!(
                "killed n{}, then rolling restart; pages awaiting ack at each fault {in_flight_at_fault:?}",
                victim + 1
            ),
        });
    }
    table.print();
}

// --- 10 --------------------------------------------------------------------------------------

/// Pages published at once, every 200 ms, during scenario 10.
const BURST: usize = 150;

/// Waits (up to 10 s) until the consumer has at least `n` pages delivered and not yet acked;
/// the most seen.
async fn ack_pending_at_least(js: &jetstream::Context, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut most = 0;
    while Instant::now() < deadline {
        if let Ok(s) = js.get_stream("PAGES").await {
            if let Ok(info) = s.consumer_info("pagewire").await {
                most = most.max(info.num_ack_pending);
                if most >= n {
                    return most;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    most
}

/// The cluster profile's delivery budget: `input.max_deliver` (5) and `retry.hold` (20s) at
/// their defaults, which `deploy/k8s/pagewire.toml` and `deploy/compose.yaml` keep, R3 streams
/// on three nodes, and two rolling restarts of all three nodes while bursts of pages keep
/// arriving faster than pagewire drains them: a graceful one (SIGTERM, start, wait until
/// healthy) and a hard one (SIGKILL, start 0.2–1.5 s later, wait until healthy), each restart
/// landing on dozens of pages in flight. Nak delays are the tests' (100 ms doubling to 1 s):
/// five deliveries pass in under two seconds, far less than a leader election, so without the
/// hold the budget is spent within one election. Every page must end processed: no
/// `retries_exhausted` dead letter (the checker counts a healthy page in the dead-letter
/// stream as unexpected).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_the_cluster_profiles_delivery_budget_survives_a_rolling_restart_under_load() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let mut table = Table::new(
        "10. cluster profile budget (max_deliver 5): rolling restart of 3 nodes under load",
    );
    for run in 0..runs(1) {
        let mut rng = Rng::for_run("s10", run);
        let mut cluster = tokio::task::block_in_place(|| NatsCluster::start(3));
        let urls = cluster.urls().join(",");
        let (_c, js) = client_at(&urls).await;
        let extra = [
            ("PAGEWIRE_OUTPUT__REPLICAS", "3"),
            ("PAGEWIRE_INPUT__MAX_DELIVER", "5"),
            ("PAGEWIRE_RETRY__HOLD", "20s"),
        ];
        let s = settings_at(&urls, &extra);
        let defaults = pagewire::config::Settings::default();
        assert_eq!(
            (s.input.max_deliver, s.retry.hold),
            (defaults.input.max_deliver, defaults.retry.hold),
            "the profile's budget is the default"
        );
        let inputs = healthy_pages(6000);
        let (tap_client, _) = client_at(&urls).await;
        let tap = AckTap::start(&tap_client, "PAGES", "pagewire").await;
        let svc = InProcess::start(s.clone()).await;

        // Pages keep coming for the whole rolling restart, in bursts faster than pagewire
        // drains them, so every restart lands on a backlog with max_in_flight pages in work.
        let done = Arc::new(AtomicBool::new(false));
        let publisher = {
            let (js, inputs, done) = (js.clone(), inputs.clone(), done.clone());
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for (k, burst) in inputs.chunks(BURST).enumerate() {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let sends = burst.iter().enumerate().map(|(i, input)| {
                        let js = js.clone();
                        async move {
                            publish_to(
                                &js,
                                &input.subject,
                                input.header_map(k * BURST + i),
                                input.payload.clone(),
                            )
                            .await
                        }
                    });
                    seqs.extend(futures::future::join_all(sends).await);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                seqs
            })
        };
        let mut in_flight_at_fault = Vec::new();
        for (node, hard) in (0..3).map(|n| (n, false)).chain((0..3).map(|n| (n, true))) {
            in_flight_at_fault.push(ack_pending_at_least(&js, 32).await);
            if hard {
                tokio::task::block_in_place(|| cluster.kill(node));
                tokio::time::sleep(
                    rng.duration(Duration::from_millis(200), Duration::from_millis(1500)),
                )
                .await;
            } else {
                tokio::task::block_in_place(|| cluster.stop(node));
            }
            // Returns once the node is healthy again: rejoined and caught up.
            tokio::task::block_in_place(|| cluster.start_node(node));
        }
        done.store(true, Ordering::Relaxed);
        let mut seqs = publisher.await.expect("publisher");
        seqs.sort_unstable();
        let restarted = Instant::now();
        wait_drained(&js, last(&seqs)).await;
        let recovery = restarted.elapsed();
        let text = svc.state.encode_metrics();
        svc.stop().await;

        let expected = Expected::new(&s, MAX_PAYLOAD, &inputs[..seqs.len()]);
        // Bursts are published concurrently: the checker pairs inputs and sequences by order.
        let report = check(&js, &s, &expected, &seqs).await;
        let exhausted = count(&js, "PAGES_DLQ").await;
        let most = tap.most_delivered(Reply::Ack);
        eprintln!(
            "run {run}: {} pages, {} redeliveries, {} naks, most deliveries of an acked page {most}, {exhausted} dead letters, in flight at each restart {in_flight_at_fault:?}\n{}",
            seqs.len(),
            report.redeliveries,
            tap.count(Reply::Nak),
            text.lines()
                .filter(|l| l.starts_with("pagewire_pages_total")
                    || l.starts_with("pagewire_retries_in_place_total"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        report.assert_clean(&format!("run {run}, seed {}", rng.seed));
        assert_eq!(exhausted, 0, "pages dead-lettered for lack of deliveries");
        table.push(RunResult {
            report,
            recovery,
            note: format!(
                "rolling restarts (SIGTERM, then SIGKILL) of n1, n2, n3 with pages arriving throughout; pages awaiting ack at each restart {in_flight_at_fault:?}; {} naks; most deliveries of an acked page {most} (budget 5)",
                tap.count(Reply::Nak)
            ),
        });
    }
    table.print();
}

// --- 6 ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6_the_network_cut_short_and_past_the_ack_wait_loses_nothing() {
    let mut table = Table::new("6. network cut < and > ack wait (TCP proxy)");
    let ack_wait = Duration::from_secs(2);
    for run in 0..runs(2) {
        let mut rng = Rng::for_run("s6", run);
        let server = NatsServer::start();
        let proxy = Proxy::start(&server.url()).await;
        let (_c, js) = client(&server).await;
        let extra = with(&[("PAGEWIRE_INPUT__ACK_WAIT", "2s")]);
        let s = settings_at(&proxy.url(), &extra);
        let inputs = healthy_pages(60);
        let expected = Expected::new(&s, MAX_PAYLOAD, &inputs);
        let svc = InProcess::start(s.clone()).await;

        let cuts = [
            rng.duration(Duration::from_millis(300), Duration::from_millis(1500)),
            ack_wait + rng.duration(Duration::from_millis(500), Duration::from_millis(1500)),
        ];
        // A burst, then the cut as soon as pages are in flight (delivered, not yet acked).
        let chunk = inputs.len() / 3;
        let mut seqs = Vec::new();
        let mut in_flight_at_cut = Vec::new();
        for (i, cut) in cuts.iter().enumerate() {
            let burst = &inputs[i * chunk..(i + 1) * chunk];
            let publisher = spawn_publisher(
                js.clone(),
                burst.to_vec(),
                i * chunk,
                rng.clone(),
                Duration::ZERO,
            );
            let pending = ack_pending_soon(&js).await;
            proxy.cut();
            in_flight_at_cut.push(pending);
            wait_for("the service to notice the cut", || {
                let s = svc.state.clone();
                async move { !s.is_connected() }
            })
            .await;
            seqs.extend(publisher.await.expect("publisher"));
            tokio::time::sleep(*cut).await;
            proxy.restore();
            wait_for("the service reconnected", || {
                let s = svc.state.clone();
                async move { s.is_ready() }
            })
            .await;
        }
        let restored = Instant::now();
        seqs.extend(
            publish_inputs(
                &js,
                &inputs[2 * chunk..],
                2 * chunk,
                &mut rng,
                Duration::from_millis(10),
            )
            .await,
        );
        wait_drained(&js, last(&seqs)).await;
        let recovery = restored.elapsed();
        svc.stop().await;

        let report = check(&js, &s, &expected, &seqs).await;
        report.assert_clean(&format!("run {run}, seed {}", rng.seed));
        table.push(RunResult {
            report,
            recovery,
            note: format!(
                "cuts {:?} and {:?}, pages awaiting ack at each cut {in_flight_at_cut:?}",
                cuts[0], cuts[1]
            ),
        });
    }
    table.print();
}

// --- 7 ---------------------------------------------------------------------------------------

/// How an output stream is made unavailable.
#[derive(Debug, Clone, Copy)]
enum OutputFault {
    /// `ARTICLES_SEARCH` deleted (the service runs with `provision = false`).
    Missing,
    /// `ARTICLES_ARCHIVE` limited to one message with discard-new.
    Full,
}

async fn output_stream_unavailable(fault: OutputFault, table: &mut Table, run: usize) {
    let mut rng = Rng::for_run(&format!("s7-{fault:?}"), run);
    let server = NatsServer::start();
    let (client, js) = client(&server).await;
    // Enough deliveries for the outage: nak delays 100ms, 200ms, ... capped at 1s.
    let extra = with(&[("PAGEWIRE_INPUT__MAX_DELIVER", "50")]);
    let s = settings(&server, &extra);
    // Seed pages: every one has search and archive articles, so every one is blocked.
    let inputs: Vec<Input> = (1..=20)
        .map(|p| Input::markdown(p, support::checker::seed()))
        .collect();
    let expected = Expected::new(&s, MAX_PAYLOAD, &inputs);

    // Provision once, then break one output stream.
    InProcess::start(s.clone()).await.stop().await;
    let (name, saved) = match fault {
        OutputFault::Missing => {
            let mut st = js.get_stream("ARTICLES_SEARCH").await.expect("stream");
            let config = st.info().await.expect("info").config.clone();
            js.delete_stream("ARTICLES_SEARCH").await.expect("delete");
            ("ARTICLES_SEARCH", config)
        }
        OutputFault::Full => {
            let mut st = js.get_stream("ARTICLES_ARCHIVE").await.expect("stream");
            let config = st.info().await.expect("info").config.clone();
            js.update_stream(jetstream::stream::Config {
                max_messages: 1,
                discard: DiscardPolicy::New,
                ..config.clone()
            })
            .await
            .expect("limit the archive stream");
            ("ARTICLES_ARCHIVE", config)
        }
    };
    let svc_settings = settings(
        &server,
        &with(&[
            ("PAGEWIRE_INPUT__MAX_DELIVER", "50"),
            ("PAGEWIRE_OUTPUT__PROVISION", "false"),
        ]),
    );
    let tap = AckTap::start(&client, "PAGES", "pagewire").await;
    let svc = InProcess::start(svc_settings).await;
    let seqs = publish_inputs(&js, &inputs, 0, &mut rng, Duration::ZERO).await;

    // Every page is retried, none acked, for as long as the outage lasts.
    wait_for("every page nak'ed", || {
        let tap = tap.clone();
        let n = inputs.len();
        async move { tap.sequences(Reply::Nak).len() >= n }
    })
    .await;
    let hold = rng.duration(Duration::from_millis(500), Duration::from_millis(2500));
    tokio::time::sleep(hold).await;
    let naks = tap.count(Reply::Nak);
    assert_eq!(tap.count(Reply::Ack), 0, "{fault:?}: a page was acked");
    assert_eq!(tap.count(Reply::Term), 0, "{fault:?}: a page was termed");
    let info = js
        .get_stream("PAGES")
        .await
        .expect("input stream")
        .consumer_info("pagewire")
        .await
        .expect("consumer info")
        .clone();
    assert_eq!(info.ack_floor.stream_sequence, 0, "{fault:?}: {info:?}");

    // Back: everything drains, nothing twice.
    match fault {
        OutputFault::Missing => {
            js.create_stream(saved).await.expect("recreate");
        }
        OutputFault::Full => {
            js.update_stream(saved).await.expect("lift the limit");
        }
    }
    let restored = Instant::now();
    wait_drained(&js, last(&seqs)).await;
    let recovery = restored.elapsed();
    svc.stop().await;

    let report = check(&js, &s, &expected, &seqs).await;
    report.assert_clean(&format!("{fault:?} run {run}, seed {}", rng.seed));
    table.push(RunResult {
        report,
        recovery,
        note: format!("{name} {fault:?} for {hold:?} past the first naks, {naks} naks"),
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_an_output_stream_missing_naks_and_drains_once_back() {
    let mut table = Table::new("7a. output stream missing");
    for run in 0..runs(1) {
        output_stream_unavailable(OutputFault::Missing, &mut table, run).await;
    }
    table.print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_an_output_stream_full_naks_and_drains_once_back() {
    let mut table = Table::new("7b. output stream full (discard new)");
    for run in 0..runs(1) {
        output_stream_unavailable(OutputFault::Full, &mut table, run).await;
    }
    table.print();
}

// --- 8 ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s8_poison_pages_are_dead_lettered_and_healthy_pages_unaffected() {
    let mut table = Table::new("8. 1% poison pages");
    for run in 0..runs(2) {
        let mut rng = Rng::for_run("s8", run);
        let server = NatsServer::start();
        let (_c, js) = client(&server).await;
        let s = settings(&server, &with(&[]));
        let mut inputs = healthy_pages(200);
        let poison = inputs.len() / 100;
        let mut kinds = Vec::new();
        let mut at_poison = Vec::new();
        for i in 0..poison {
            let mut at = rng.range(0, inputs.len() as u64 - 1) as usize;
            while at_poison.contains(&at) {
                at = (at + 1) % inputs.len();
            }
            at_poison.push(at);
            let kind = rng.range(0, 3) as usize;
            inputs[at] = poison_page(kind, i);
            kinds.push(kind);
        }
        let expected = Expected::new(&s, MAX_PAYLOAD, &inputs);
        assert_eq!(expected.poison.len(), poison, "poison positions distinct");
        let svc = InProcess::start(s.clone()).await;

        let started = Instant::now();
        let seqs = publish_inputs(&js, &inputs, 0, &mut rng, Duration::ZERO).await;
        if let Err(state) = drained_within(&js, "PAGES", "pagewire", last(&seqs), WAIT * 2).await {
            panic!("run {run}: not drained: {state}");
        }
        let recovery = started.elapsed();
        svc.stop().await;

        let report = check(&js, &s, &expected, &seqs).await;
        report.assert_clean(&format!("run {run}, seed {}", rng.seed));
        assert_eq!(report.dead_letters, poison);
        assert_eq!(report.redeliveries, 0, "poison is termed, not retried");
        table.push(RunResult {
            report,
            recovery,
            note: format!("poison kinds {kinds:?}"),
        });
    }
    table.print();
}

// --- 9 ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s9_a_dead_letter_outage_across_the_last_delivery_loses_nothing() {
    for run in 0..runs(1) {
        dead_letter_outage(run).await;
    }
}

/// Scenario 9: healthy pages whose outputs cannot be stored and poison pages, all needing a
/// dead letter while the dead-letter stream is missing, across their last delivery. The
/// checker's oracle does not apply (nothing is published); the test checks its own: one dead
/// letter per input, every input termed only after it, and a clean consumer.
async fn dead_letter_outage(run: usize) {
    use prost::Message as _;
    let mut rng = Rng::for_run("s9", run);
    let server = NatsServer::start();
    let (client, js) = client(&server).await;
    // A budget of 3 deliveries; naks 100ms doubling to 1s.
    let budget = [("PAGEWIRE_INPUT__MAX_DELIVER", "3")];
    let s = settings(&server, &budget);
    InProcess::start(s.clone()).await.stop().await;
    // Healthy pages that cannot be published (their search stream is gone) and poison pages:
    // every one needs a dead letter, and the dead-letter stream is gone too.
    let mut saved = Vec::new();
    for name in ["ARTICLES_SEARCH", "PAGES_DLQ"] {
        let mut st = js.get_stream(name).await.expect("stream");
        saved.push(st.info().await.expect("info").config.clone());
        js.delete_stream(name).await.expect("delete");
    }
    let mut inputs: Vec<Input> = (1..=8)
        .map(|p| Input::markdown(p, support::checker::seed()))
        .collect();
    inputs.push(poison_page(0, 9));
    inputs.push(poison_page(2, 10));
    let tap = AckTap::start(&client, "PAGES", "pagewire").await;
    let svc = InProcess::start(settings(
        &server,
        &[budget[0], ("PAGEWIRE_OUTPUT__PROVISION", "false")],
    ))
    .await;
    let seqs = publish_inputs(&js, &inputs, 0, &mut rng, Duration::ZERO).await;

    // Every page spends its budget and keeps coming back: delivered beyond the budget, nak-ed,
    // counted as waiting. (Before: the consumer stopped at max_deliver and the pages were left
    // with an error log line.)
    let state = svc.state.clone();
    wait_for("every page waiting for its dead letter", || {
        let state = state.clone();
        let n = inputs.len();
        async move { state.dead_letters_waiting() == n }
    })
    .await;
    wait_for("deliveries beyond the budget", || {
        let js = js.clone();
        let n = inputs.len() as u64;
        async move {
            let Ok(s) = js.get_stream("PAGES").await else {
                return false;
            };
            let Ok(info) = s.consumer_info("pagewire").await else {
                return false;
            };
            // Every page delivered at least 5 times: 3 within the budget, 2 beyond.
            info.delivered.consumer_sequence >= 5 * n
        }
    })
    .await;
    let hold = rng.duration(Duration::from_millis(500), Duration::from_millis(2500));
    tokio::time::sleep(hold).await;
    assert_eq!(tap.count(Reply::Ack), 0, "a page was acked");
    assert_eq!(
        tap.count(Reply::Term),
        0,
        "a page was termed without its dead letter"
    );
    let metrics = svc.state.encode_metrics();
    assert!(
        metrics.contains(&format!("pagewire_dead_letters_waiting {}", inputs.len())),
        "{metrics}"
    );

    // The dead-letter stream is back (the search stream is not): every page gets its dead
    // letter and is termed; nothing is left in the input stream.
    js.create_stream(saved[1].clone())
        .await
        .expect("recreate PAGES_DLQ");
    let restored = Instant::now();
    wait_drained(&js, last(&seqs)).await;
    let recovery = restored.elapsed();
    let letters: Vec<pagewire::proto::DeadLetter> = support::checker::stored(&js, "PAGES_DLQ")
        .await
        .iter()
        .map(|m| pagewire::proto::DeadLetter::decode(m.payload.clone()).expect("letter"))
        .collect();
    let sequences: std::collections::BTreeSet<u64> =
        letters.iter().map(|d| d.stream_sequence).collect();
    assert_eq!(letters.len(), inputs.len(), "one dead letter per page");
    assert_eq!(sequences, seqs.iter().copied().collect(), "every page");
    for d in &letters {
        assert_eq!(d.code, "retries_exhausted", "{}", d.reason);
        assert!(d.delivery_count > 3, "{}", d.delivery_count);
        assert!(!d.payload.is_empty(), "the page's bytes are kept");
    }
    assert_eq!(tap.sequences(Reply::Term).len(), inputs.len());
    assert_eq!(svc.state.dead_letters_waiting(), 0);
    let naks = tap.count(Reply::Nak);
    let failures = svc
        .state
        .encode_metrics()
        .lines()
        .find_map(|l| {
            l.strip_prefix("pagewire_dead_letter_failures_total ")
                .map(str::to_owned)
        })
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(failures >= inputs.len() as f64, "{failures}");
    svc.stop().await;
    eprintln!(
        "run {run}: {} pages, {naks} naks, {failures} dead letters not stored, held {hold:?} past the budget, drained {recovery:?} after PAGES_DLQ came back",
        inputs.len()
    );
}
