package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unetmm rpc serve} and {@code unetmm rpc bench} as a user runs them: the server in a JVM
 * of its own, the bench here over udp loopback; the bench's lines, summary (table and JSON) and
 * exit status, the server's own lines and exit when its duration ends, and the bench's failure
 * when nobody serves.
 */
@Timeout(90)
class RpcCommandTest {
    @TempDir
    Path results;

    @Test
    void benchAgainstAServerInAnotherProcessKeepsCallsInFlightAndSummarisesThem() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess serve = UnetmmProcess.start("rpc", "serve", "--listen", address, "--duration", "12")) {
            assertThat(serve.nextLine()).startsWith("rpc serve: listening on " + address + "/1, echo");
            CommandRun run = CommandRun.of("rpc", "bench", "--to", address, "--size", "64B", "--inflight", "8",
                    "--duration", "1.2", "--warmup", "0.3", "--results", results.toString());
            assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
            assertThat(run.out()).as(run.out())
                    .contains("rpc bench: 64 B calls to " + address + "/1, 8 in flight")
                    .containsPattern("rpc bench:    1 s +[0-9,]+ calls/s +[0-9.]+ MB/s  p50 +[0-9,.]+ µs  p99 +[0-9,.]+ µs\n")
                    .containsPattern("rpc bench: summary  [1-9][0-9,]* calls of 64 B, 8 in flight, in [0-9.]+ s: [0-9,]+ calls/s"
                            + "  [0-9.]+ MB/s; latency µs p50 [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  p99.9 [0-9.]+  max [0-9.]+;"
                            + " failed 0\n");
            CommandRun json = CommandRun.of("rpc", "bench", "--to", address, "--size", "1KiB", "--inflight", "2",
                    "--duration", "0.5", "--warmup", "0", "--repeats", "2", "--format", "json", "--results",
                    results.resolve("json").toString());
            assertThat(json.exitCode()).as(json.out() + json.err()).isZero();
            JsonNode summary = RunRecord.JSON.readTree(json.out());
            assertThat(summary.get("repeats").asInt()).isEqualTo(2);
            JsonNode samples = summary.get("samples");
            assertThat(samples).hasSize(2);
            long sampled = 0;
            for (int i = 0; i < 2; i++) {
                assertThat(samples.get(i).get("repeat").asInt()).isEqualTo(i);
                assertThat(samples.get(i).get("seconds").asDouble()).as("interval %d", i).isGreaterThanOrEqualTo(0.5);
                assertThat(samples.get(i).get("calls").asLong()).isPositive();
                sampled += samples.get(i).get("calls").asLong();
            }
            assertThat(summary.get("calls").asLong()).as("the total is the intervals' calls").isEqualTo(sampled);
            assertThat(Instant.parse(samples.get(1).get("startedAt").asText()))
                    .isAfter(Instant.parse(samples.get(0).get("startedAt").asText()));
            JsonNode spread = summary.get("overRepeats");
            for (String figure : new String[] {"/callsPerSecond", "/mbPerSecond", "/latencyMicros/p50", "/latencyMicros/p99",
                    "/latencyMicros/max"}) {
                JsonNode f = spread.at(figure);
                assertThat(f.get("median").asDouble()).as(figure).isBetween(f.get("min").asDouble(), f.get("max").asDouble());
            }
            double[] rates = {samples.get(0).get("callsPerSecond").asDouble(), samples.get(1).get("callsPerSecond").asDouble()};
            assertThat(spread.at("/callsPerSecond/min").asDouble()).isEqualTo(Math.min(rates[0], rates[1]));
            assertThat(spread.at("/callsPerSecond/max").asDouble()).isEqualTo(Math.max(rates[0], rates[1]));
            assertThat(summary.get("flags").isArray()).isTrue();
            assertThat(summary.at("/run/configuration/repeats").asInt()).isEqualTo(2);
            assertThat(summary.at("/run/repeatDurations")).hasSize(2);
            assertThat(json.err()).contains("rpc bench: repeat 2/2").contains("rpc bench: median [min–max] over 2 repeats:");
            assertThat(summary.get("sizeBytes").asInt()).isEqualTo(1024);
            assertThat(summary.get("inflight").asInt()).isEqualTo(2);
            assertThat(summary.get("calls").asLong()).isPositive();
            assertThat(summary.get("failed").asLong()).isZero();
            assertThat(summary.get("callsPerSecond").asDouble()).isPositive();
            JsonNode latency = summary.get("latencyMicros");
            for (String p : new String[] {"p50", "p90", "p99", "p99.9", "max"}) {
                assertThat(latency.get(p).asDouble()).as(p).isPositive();
            }
            assertThat(latency.get("p50").asDouble()).isLessThanOrEqualTo(latency.get("max").asDouble());
            assertThat(serve.exitCode(30)).as(serve.output()).isZero();
            assertThat(serve.output()).containsPattern("rpc serve: +[0-9]+ s +[0-9,]+ calls/s  clients [01]")
                    .containsPattern("rpc serve: stopped after [0-9.]+ s; [1-9][0-9,]* calls served");
        }
    }

    @Test
    void benchWhoseServerIsKilledCountsOnlyTheCallsInFlightAsFailed() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        try (UnetmmProcess serve = UnetmmProcess.start("rpc", "serve", "--listen", address, "--duration", "60");
             UnetmmProcess bench = startBench(serve, address)) {
            bench.lineStartingWith("rpc bench:    1 s"); // calls flow
            serve.kill(); // SIGKILL: no CLOSE reaches the client, its requests go unacknowledged
            int exit = bench.exitCode(60);
            String out = bench.output();
            assertThat(exit).as(out).isEqualTo(UnetmmCommand.FAILED);
            Matcher failed = Pattern.compile("; failed ([0-9,]+)\n").matcher(out);
            assertThat(failed.find()).as(out).isTrue();
            long count = Long.parseLong(failed.group(1).replace(",", ""));
            // the calls in flight when the server died fail; calls the client refused to send while its
            // requests went unacknowledged are no failed calls (they were counted in the millions)
            assertThat(count).as(out).isBetween(1L, 8L);
            assertThat(out).contains("calls failed, the first: ");
        }
    }

    private UnetmmProcess startBench(UnetmmProcess serve, String address) throws Exception {
        assertThat(serve.nextLine()).startsWith("rpc serve: listening on " + address);
        return UnetmmProcess.start("rpc", "bench", "--to", address, "--size", "64B", "--inflight", "8", "--duration", "40",
                "--warmup", "0", "--results", results.toString());
    }

    @Test
    void benchWithNobodyServingFailsWithOneLineSayingHowToStartAServer() throws Exception {
        String address = "udp://127.0.0.1:" + UnetmmProcess.freePort();
        CommandRun run = CommandRun.of("rpc", "bench", "--to", address, "--duration", "1", "--results", results.toString());
        assertThat(run.exitCode()).isEqualTo(UnetmmCommand.FAILED);
        assertThat(run.err().strip()).doesNotContain("\n")
                .startsWith("unetmm rpc bench: no RPC server answered at " + address)
                .contains("unetmm rpc serve --listen " + address);
    }

    @Test
    void helpShowsExamplesAndBadOptionsAreUsageErrorsNamingTheFix() {
        for (String command : new String[] {"serve", "bench"}) {
            CommandRun help = CommandRun.of("rpc", command, "--help");
            assertThat(help.exitCode()).isZero();
            assertThat(help.out()).contains("Examples:").contains("unetmm rpc " + command + " --");
        }
        CommandRun size = CommandRun.of("rpc", "bench", "--to", "udp://127.0.0.1:9", "--size", "lots");
        assertThat(size.exitCode()).isEqualTo(UnetmmCommand.USAGE);
        assertThat(size.err()).contains("--size").contains("is not a size: give bytes as " + ByteSize.FORMS);
        CommandRun inflight = CommandRun.of("rpc", "bench", "--to", "udp://127.0.0.1:9", "--inflight", "0");
        assertThat(inflight.exitCode()).isEqualTo(UnetmmCommand.USAGE);
        assertThat(inflight.err()).contains("--inflight: 0 is out of range: 1..4096");
        assertThat(CommandRun.of("rpc").exitCode()).isEqualTo(UnetmmCommand.USAGE);
        CommandRun repeats = CommandRun.of("rpc", "bench", "--to", "udp://127.0.0.1:9", "--repeats", "0");
        assertThat(repeats.exitCode()).isEqualTo(UnetmmCommand.USAGE);
        assertThat(repeats.err().lines().findFirst().orElseThrow()).isEqualTo("unetmm rpc bench: --repeats: 0 is out of range: 1..1000");
        CommandRun format = CommandRun.of("rpc", "bench", "--to", "udp://127.0.0.1:9", "--format", "xml");
        assertThat(format.exitCode()).isEqualTo(UnetmmCommand.USAGE);
        assertThat(format.err().lines().findFirst().orElseThrow())
                .isEqualTo("unetmm rpc bench: --format must be 'table', 'csv' or 'json', got 'xml'");
    }
}
