package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unetmm compare --transport shm:} as a user runs it: the receiver in a second JVM, every
 * path measured across the two processes, nothing left behind (no process, no file under
 * /dev/shm), and a receiver that dies failing the run at once with one line.
 */
@Timeout(180)
class ShmCompareCommandTest {
    private static final AtomicInteger NAMES = new AtomicInteger();

    @TempDir
    Path results;

    private static String freshName(String what) {
        return "cmp-" + what + "-" + ProcessHandle.current().pid() + "-" + NAMES.incrementAndGet();
    }

    /** The receiving JVMs this JVM started (directly or through a unetmm process), still alive. */
    private static List<ProcessHandle> receivers() {
        return ProcessHandle.current().descendants()
                .filter(h -> h.isAlive() && h.info().commandLine().orElse("").contains(CrossProcessChild.class.getName()))
                .toList();
    }

    private static List<String> filesNaming(String name) throws IOException {
        try (Stream<Path> files = Files.list(Path.of("/dev/shm"))) {
            return files.map(p -> p.getFileName().toString()).filter(f -> f.contains(name)).toList();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"shm:x?warp=1|unknown shm URI option 'warp'",
            "shm:x?eager=abc|eager must be a whole number", "shm:bad/name|bad shm NIC name",
            "shm:x?ring=1000|ring must be a power of two"})
    void aBadShmTransportExitsWithCode2AndNamesTheFix(String uriAndFix) {
        String[] parts = uriAndFix.split("\\|");
        CommandRun run = CommandRun.of("compare", "--transport", parts[0], "--results", results.toString());
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.err()).contains("--transport", parts[1]);
        assertThat(receivers()).as("no receiving JVM is started for a bad URI").isEmpty();
    }

    @Test
    void everyPathIsMeasuredAcrossTwoProcessesAndNothingIsLeftBehind() throws IOException {
        String name = freshName("sweep");
        CommandRun run = CommandRun.of("compare", "--transport", "shm:" + name, "--sizes", "64,65536", "--warmup-ms", "20",
                "--measure-ms", "150", "--repeats", "1", "--format", "csv", "--results", results.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> csv = run.out().lines().toList();
        List<String> header = List.of(csv.get(0).split(","));
        Map<String, List<String[]>> byPath = csv.subList(1, csv.size()).stream().map(r -> r.split(",", -1))
                .collect(Collectors.groupingBy(cells -> cells[header.indexOf("path")]));
        assertThat(byPath).as(run.out()).containsOnlyKeys("MEMCPY", "PINNED", "FIXED_SEGMENT", "WORKING_SET_MEMCPY",
                "AERON_IPC", "UDP_PINNED");
        for (Map.Entry<String, List<String[]>> path : byPath.entrySet()) {
            assertThat(path.getValue()).as("one row per size for " + path.getKey()).hasSize(2);
            for (String[] cells : path.getValue()) {
                String row = String.join(",", cells);
                assertThat(cells[header.indexOf("transport")]).as(row).isEqualTo("shm:" + name);
                assertThat(Long.parseLong(cells[header.indexOf("messages")])).as("delivered in " + row).isPositive();
                assertThat(Double.parseDouble(cells[header.indexOf("msgs_per_s")])).as("rate in " + row).isPositive();
                assertThat(cells[header.indexOf("latency")]).as(row).isEqualTo(path.getKey().equals("MEMCPY") ? "one-way" : "rtt/2");
                if (!path.getKey().equals("MEMCPY")) {
                    assertThat(Long.parseLong(cells[header.indexOf("p50_ns")])).as("half a round trip in " + row).isPositive();
                }
            }
        }
        for (String[] cells : byPath.get("WORKING_SET_MEMCPY")) {
            assertThat(Double.parseDouble(cells[header.indexOf("ratio_to_memcpy")])).as("the working-set copy ÷ MEMCPY, "
                    + String.join(",", cells)).isPositive().isNotEqualTo(1.0);
        }
        for (String size : List.of("64 B", "64 KiB")) {
            assertThat(run.err().lines().filter(l -> l.startsWith("note: WORKING_SET_MEMCPY at " + size + ":")))
                    .as("the working-set note at " + size + " in\n" + run.err()).singleElement().asString()
                    .containsPattern("PINNED ÷ it \\d+\\.\\d{3} \\[\\d+\\.\\d{3}–\\d+\\.\\d{3}\\] over 1 repeats")
                    .contains("FIXED_SEGMENT ÷ it");
        }
        assertThat(receivers()).as("the receiving JVM is gone after the run").isEmpty();
        assertThat(filesNaming(name)).as("/dev/shm after the run").isEmpty();
        Path dir;
        try (java.util.stream.Stream<Path> dirs = Files.list(results)) {
            dir = dirs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        String refusal = org.unetmm.nic.shm.ShmTransport.crossMemoryAttachRefusal();
        assertThat(RunRecord.JSON.readTree(dir.resolve("run.json").toFile()).at("/kernelFeatures/crossMemoryAttach").asText())
                .as("run.json's kernel features").isEqualTo(refusal == null ? "usable (process_vm_readv)" : "refused: " + refusal);
    }

    @Test
    void aReceiverKilledMidRunFailsTheRunWithOneLineAtOnce() throws Exception {
        String name = freshName("kill");
        try (UnetmmProcess compare = UnetmmProcess.start("compare", "--transport", "shm:" + name, "--sizes", "64",
                "--warmup-ms", "20", "--measure-ms", "300", "--repeats", "100", "--no-aeron", "--results", results.toString())) {
            compare.lineStartingWith("[3/"); // the first shm repeat is under way
            List<ProcessHandle> receivers = receivers();
            assertThat(receivers).as("one receiving JVM; output so far:\n" + compare.output()).hasSize(1);
            long killedAt = System.nanoTime();
            receivers.get(0).destroyForcibly();
            int code = compare.exitCode(60);
            double seconds = (System.nanoTime() - killedAt) / 1e9;
            assertThat(code).as(compare.output()).isEqualTo(UnetmmCommand.FAILED);
            assertThat(seconds).as("seconds from the kill to the exit").isLessThan(20);
            List<String> failure = compare.output().lines().filter(l -> l.startsWith("unetmm compare: ")).toList();
            assertThat(failure).as(compare.output()).hasSize(1);
            assertThat(failure.get(0)).contains("the receiving JVM (pid " + receivers.get(0).pid() + ") was killed (signal 9)");
            assertThat(compare.output()).doesNotContain("\tat org.unetmm");
        }
        assertThat(receivers()).as("no receiving JVM left").isEmpty();
        assertThat(filesNaming(name)).as("/dev/shm after the killed receiver: its home and regions removed").isEmpty();
    }
}
