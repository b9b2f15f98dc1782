package org.unetmm.tlb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.tlb.MissHandler;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.Tlb;
import org.unetmm.tlb.TlbConfig;

/** Traces on disk (plain text, libCacheSim CSV) and recorded from a TLB, read back access for access. */
@Timeout(60)
class TraceFileTest {
    private static final long PAGE = NativeMemory.pageSize();

    @TempDir
    Path dir;

    private static void assertSameAccesses(PageTrace expected, PageTrace actual) {
        assertThat(actual.length()).isEqualTo(expected.length());
        for (int i = 0; i < expected.length(); i++) {
            assertThat(actual.virtualPage(i)).as("access %d", i).isEqualTo(expected.virtualPage(i));
            assertThat(actual.context(i)).as("access %d", i).isEqualTo(expected.context(i));
        }
    }

    /** Real-looking virtual pages of two contexts (heap addresses near 0x7f.. ÷ 4096), seeded. */
    private static PageTrace recordedLooking(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int n = 3000;
        int[] contexts = new int[n];
        long[] pages = new long[n];
        for (int i = 0; i < n; i++) {
            contexts[i] = random.nextInt(5) == 0 ? 1 : 0;
            pages[i] = (0x7f12_3456_7000L >>> 12) + random.nextInt(700);
        }
        return PageTrace.ofVirtualPages("seeded", contexts, pages);
    }

    @Test
    void plainTextAndLibCacheSimCsvRoundTripEveryAccess() throws IOException {
        PageTrace trace = recordedLooking(5);
        for (String name : new String[] {"trace.txt", "trace.csv"}) {
            Path file = dir.resolve(name);
            TraceFile.write(trace, file, PAGE);
            PageTrace back = TraceFile.read(file);
            assertSameAccesses(trace, back);
            assertThat(back.isRecorded()).isTrue();
            assertThat(back.staticTopCHitRate(16)).as("a recorded trace has no top-C bound").isEmpty();
        }
        assertThat(Files.readAllLines(dir.resolve("trace.csv")).get(0)).isEqualTo("time,obj_id,obj_size");
    }

    @Test
    void plainTextTakesCommentsBlankLinesHexAndAContextColumn() throws IOException {
        Path file = dir.resolve("hand.trace");
        Files.writeString(file, "# a hand-written trace\n\n100\n0x65   # page 101\n100 2\n  102\t\n");
        PageTrace trace = TraceFile.read(file);
        assertThat(trace.length()).isEqualTo(4);
        assertThat(new long[] {trace.virtualPage(0), trace.virtualPage(1), trace.virtualPage(2), trace.virtualPage(3)})
                .containsExactly(100, 101, 100, 102);
        assertThat(trace.context(2)).as("context 2 is the second id seen, renumbered 1").isEqualTo(1);
        assertThat(trace.key(0)).isNotEqualTo(trace.key(2));
    }

    @Test
    void libCacheSimCsvWithoutHeaderOrWithOtherColumnsReadsTheObjectId() throws IOException {
        Path bare = dir.resolve("bare.csv");
        Files.writeString(bare, "1,500,4096\n2,501,4096\n3,500,4096\n");
        PageTrace trace = TraceFile.read(bare);
        assertThat(trace.length()).isEqualTo(3);
        assertThat(trace.virtualPage(1)).isEqualTo(501);
        Path named = dir.resolve("named.csv");
        Files.writeString(named, "obj_size,ts,obj_id\n4096,1,900\n4096,2,901\n");
        assertThat(TraceFile.read(named).virtualPage(1)).isEqualTo(901);
    }

    @Test
    void malformedLinesAreRefusedWithTheirLineNumber() throws IOException {
        Path text = dir.resolve("bad.txt");
        Files.writeString(text, "# header\n17\n18x\n19\n");
        assertThatThrownBy(() -> TraceFile.read(text)).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("bad.txt line 3").hasMessageContaining("'18x' is not a virtual page number")
                .satisfies(e -> assertThat(((TraceFormatException) e).line()).isEqualTo(3));
        Path fields = dir.resolve("fields.txt");
        Files.writeString(fields, "1\n2 0 9\n");
        assertThatThrownBy(() -> TraceFile.read(fields)).hasMessageContaining("line 2").hasMessageContaining("3 fields");
        Path csv = dir.resolve("bad.csv");
        Files.writeString(csv, "time,obj_id,obj_size\n1,7,4096\n2\n");
        assertThatThrownBy(() -> TraceFile.read(csv)).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("bad.csv line 3").hasMessageContaining("1 column(s)");
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "# nothing\n");
        assertThatThrownBy(() -> TraceFile.read(empty)).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("no accesses");
    }

    /**
     * A TLB's own lookups, recorded, then replayed against a fresh TLB of the same shape, policy
     * and seed (through a file): the same hits, for two contexts sharing the sets of a
     * set-associative TLB, because the replay keeps each page's number and context and so the set
     * it had (renumbering each context's pages from 0 would change which pages collide).
     */
    @Test
    void recordedLookupsReplayToTheSameHitsForEveryPolicy() throws IOException {
        for (ReplacementPolicy policy : ReplacementPolicy.values()) {
            TlbConfig config = TlbConfig.builder().sets(8).ways(4).policy(policy).seed(11).build();
            PageTraceRecorder recorder = new PageTraceRecorder(20_000);
            long hits;
            try (Tlb tlb = new Tlb(config, MissHandler.unpinned())) {
                int[] contexts = {tlb.openContext(), tlb.openContext()};
                tlb.record(recorder);
                SplittableRandom random = new SplittableRandom(23);
                long base = 0x7f00_0000_0000L + 5 * PAGE; // not set-aligned: the replay must keep the offset
                for (int i = 0; i < 20_000; i++) {
                    int page = random.nextBoolean() ? random.nextInt(40) : random.nextInt(400);
                    int c = random.nextInt(3) == 0 ? 1 : 0;
                    tlb.lookup(contexts[c], null, base + (page + 3L * c) * PAGE + random.nextInt((int) PAGE));
                }
                hits = tlb.stats().hits();
            }
            assertThat(recorder.size()).isEqualTo(20_000);
            assertThat(recorder.dropped()).isZero();
            Path file = dir.resolve(policy + ".csv");
            TraceFile.write(recorder.trace("recorded"), file, PAGE);
            TraceResult replay = TraceRunner.simulate(TraceFile.read(file), config);
            assertThat(replay.tlbStats().hits()).as("%s: replayed hits vs recorded run's", config).isEqualTo(hits);
        }
    }
}
