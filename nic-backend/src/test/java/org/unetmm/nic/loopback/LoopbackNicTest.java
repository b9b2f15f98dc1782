package org.unetmm.nic.loopback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ClosedException;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.InvalidDescriptorException;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.PostStatus;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.pinning.UnpinnableBufferException;
import org.unetmm.tlb.TlbStats;

/** The U-Net/MM architecture end to end on the in-JVM loopback wire. */
@Timeout(60)
class LoopbackNicTest {
    private long baseline;
    private Nic nic;
    private Endpoint a;
    private Endpoint b;
    private Channel ab;
    private Channel ba;

    @BeforeEach
    void open() {
        baseline = ProcessStatus.vmLckBytes();
        nic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).mtu(4096).build());
        a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 20).build());
        b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 20).build());
        ab = a.openChannel();
        ba = b.openChannel();
        ab.connect(ba.address());
        ba.connect(ab.address());
    }

    @AfterEach
    void close() {
        nic.close();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after NIC close").isEqualTo(baseline);
    }

    private Completion next(Endpoint endpoint) {
        Completion c = endpoint.await(Duration.ofSeconds(5));
        assertThat(c).as("a completion within 5 s").isNotNull();
        return c;
    }

    private static ByteBuffer pattern(int size, int seed) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(Math.max(size, 1));
        for (int i = 0; i < size; i++) {
            buffer.put(i, (byte) (seed * 7 + i * 13));
        }
        return buffer;
    }

    @Test
    void messageLargerThanMtuIsReassembledIntoThePostedBuffer() {
        ByteBuffer source = pattern(20_000, 3);
        ByteBuffer target = ByteBuffer.allocateDirect(32_768);
        assertThat(b.postReceive(target, 77).isPosted()).isTrue();
        assertThat(a.send(ab, source, 0, 20_000, SendPath.PINNED, 5)).isEqualTo(SendStatus.ACCEPTED);
        Completion sent = next(a);
        Completion received = next(b);
        assertThat(sent.kind()).isEqualTo(Completion.Kind.SEND);
        assertThat(sent.status()).isEqualTo(CompletionStatus.OK);
        assertThat(sent.cookie()).isEqualTo(5);
        assertThat(received.status()).isEqualTo(CompletionStatus.OK);
        assertThat(received.cookie()).isEqualTo(77);
        assertThat(received.length()).isEqualTo(20_000);
        assertThat(received.channel()).isSameAs(ba);
        assertThat(target.slice(0, 20_000)).isEqualTo(source.slice(0, 20_000));
        assertThat(nic.stats().fragmentsSent()).isEqualTo(5);
    }

    @Test
    void pinnedSendIsZeroCopyTheNicReadsTheBufferWhenItMovesTheBytes() {
        ByteBuffer source = pattern(8192, 1);
        ByteBuffer target = ByteBuffer.allocateDirect(8192);
        b.postReceive(target, 0);
        TlbStats before = nic.stats().tlb();
        assertThat(a.send(ab, source, 0, 8192, SendPath.PINNED, 1)).isEqualTo(SendStatus.ACCEPTED);
        source.put(100, (byte) 0x5A); // written after send, before the NIC ran: a zero-copy NIC sends it
        next(a);
        next(b);
        assertThat(target.get(100)).isEqualTo((byte) 0x5A);
        TlbStats after = nic.stats().tlb();
        long lookups = (after.hits() + after.misses()) - (before.hits() + before.misses());
        assertThat(lookups).as("TLB lookups for the sender's pages (2 or 3) and the receiver's").isGreaterThanOrEqualTo(4);
    }

    @Test
    void aPostedBufferIsTranslatedInTheNicsNextRoundSoItsMessageFindsItInTheTlb() {
        ByteBuffer source = pattern(64, 2);
        try (NativeBuffer page = NativeMemory.allocate((int) NativeMemory.pageSize(), false)) {
            ByteBuffer target = page.buffer(); // one page: within any endpoint's share of the TLB
            TlbStats before = nic.stats().tlb();
            assertThat(b.postReceive(target, 0, 64, 0).isPosted()).isTrue();
            assertThat(nic.stats().tlb().prefetches()).as("the post itself leaves the TLB to the NIC").isEqualTo(before.prefetches());
            nic.progress();
            TlbStats prefetched = nic.stats().tlb();
            assertThat(prefetched.prefetches() - before.prefetches()).as("the posted page").isEqualTo(1);
            assertThat(a.send(ab, source, 0, 64, SendPath.FIXED_SEGMENT, 1)).isEqualTo(SendStatus.ACCEPTED);
            next(a);
            assertThat(next(b).status()).isEqualTo(CompletionStatus.OK);
            assertThat(target.slice(0, 64)).isEqualTo(source.slice(0, 64));
            TlbStats after = nic.stats().tlb();
            assertThat(after.misses()).as("the arrival found its page translated").isEqualTo(prefetched.misses());
            assertThat(after.hits() - prefetched.hits()).as("the arrival's lookup").isEqualTo(1);
        }
    }

    @Test
    void aBufferPostedFromAnotherThreadWhileAHandlerRunsDoesNotWaitForTheHandler() throws Exception {
        ByteBuffer source = pattern(64, 4);
        ByteBuffer first = ByteBuffer.allocateDirect(64);
        ByteBuffer second = ByteBuffer.allocateDirect(64);
        b.postReceive(first, 1);
        ExecutorService other = Executors.newSingleThreadExecutor();
        AtomicReference<Object> postedMeanwhile = new AtomicReference<>();
        try {
            a.onCompletion(c -> { // an upcall: the NIC is between steps, its engine held by this thread
                if (c.cookie() != 1) {
                    return;
                }
                Future<PostStatus> post = other.submit(() -> b.postReceive(second, 2));
                try {
                    postedMeanwhile.set(post.get(5, TimeUnit.SECONDS));
                } catch (Exception e) {
                    postedMeanwhile.set(e);
                }
            });
            assertThat(a.send(ab, source, 0, 64, SendPath.PINNED, 1)).isEqualTo(SendStatus.ACCEPTED);
            nic.progress();
            assertThat(postedMeanwhile.get()).as("the other thread's post, while the handler ran")
                    .isEqualTo(PostStatus.POSTED);
        } finally {
            other.shutdownNow();
        }
        assertThat(next(b).cookie()).isEqualTo(1);
        assertThat(a.send(ab, source, 0, 64, SendPath.PINNED, 3)).isEqualTo(SendStatus.ACCEPTED);
        assertThat(next(b).cookie()).as("the buffer posted meanwhile takes the next message").isEqualTo(2);
    }

    @Test
    void fixedSegmentSendCopiesSoLaterWritesDoNotArrive() {
        ByteBuffer source = pattern(8192, 1);
        ByteBuffer target = ByteBuffer.allocateDirect(8192);
        b.postReceive(target, 0);
        byte original = source.get(100);
        assertThat(a.send(ab, source, 0, 8192, SendPath.FIXED_SEGMENT, 1)).isEqualTo(SendStatus.ACCEPTED);
        source.put(100, (byte) (original + 1));
        next(a);
        next(b);
        assertThat(target.get(100)).isEqualTo(original);
    }

    @Test
    void heapBuffersAreAllowedOnTheFixedPathOnly() {
        ByteBuffer heap = ByteBuffer.allocate(100);
        ByteBuffer target = ByteBuffer.allocateDirect(100);
        b.postReceive(target, 0);
        assertThatThrownBy(() -> a.send(ab, heap, 0, 100, SendPath.PINNED, 1))
                .isInstanceOf(UnpinnableBufferException.class).hasMessageContaining("FIXED_SEGMENT");
        assertThat(a.send(ab, heap, 0, 100, SendPath.FIXED_SEGMENT, 1)).isEqualTo(SendStatus.ACCEPTED);
        assertThat(next(b).length()).isEqualTo(100);
    }

    @Test
    void pinnedSteadyStateAllocatesNothingPerMessage() {
        ByteBuffer source = pattern(4096, 1);
        ByteBuffer target = ByteBuffer.allocateDirect(4096);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long allocated = 0;
        int messages = 20_000;
        for (int round = 0; round < 2; round++) { // round 0 warms up (JIT, TLB, pin cache)
            long start = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < messages; i++) {
                b.postReceive(target, 0, 4096, i);
                a.send(ab, source, 0, 4096, SendPath.PINNED, i);
                nic.progress();
                a.poll(c -> { }, 4);
                b.poll(c -> { }, 4);
            }
            allocated = threads.getThreadAllocatedBytes(id) - start;
        }
        assertThat(b.stats().receivesCompleted()).isEqualTo(2L * messages);
        assertThat(allocated / messages).as("bytes allocated per message on the pinned path").isLessThan(8);
    }

    @Test
    void reuseCheckCatchesABufferModifiedBeforeCompletion() {
        try (Nic checking = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).reuseCheck(true).build());
             Endpoint x = checking.openEndpoint(); Endpoint y = checking.openEndpoint()) {
            Channel xy = x.openChannel();
            Channel yx = y.openChannel();
            xy.connect(yx.address());
            yx.connect(xy.address());
            ByteBuffer source = pattern(1000, 2);
            y.postReceive(ByteBuffer.allocateDirect(1000), 0);
            x.send(xy, source, 0, 1000, SendPath.PINNED, 9);
            source.put(10, (byte) ~source.get(10));
            Completion c = x.await(Duration.ofSeconds(5));
            assertThat(c.status()).isEqualTo(CompletionStatus.BUFFER_MODIFIED);
            assertThat(c.cookie()).isEqualTo(9);
            x.send(xy, source, 0, 1000, SendPath.PINNED, 10);
            assertThat(x.await(Duration.ofSeconds(5)).status()).isEqualTo(CompletionStatus.OK);
        }
    }

    @Test
    void messageLongerThanThePostedBufferIsTruncatedWithoutWritingPastIt() {
        ByteBuffer whole = ByteBuffer.allocateDirect(300);
        ByteBuffer posted = whole.slice(100, 100);
        b.postReceive(posted, 0);
        a.send(ab, pattern(250, 4), 0, 250, SendPath.PINNED, 1);
        Completion c = next(b);
        assertThat(c.status()).isEqualTo(CompletionStatus.TRUNCATED);
        assertThat(c.length()).isEqualTo(100);
        for (int i = 200; i < 300; i++) {
            assertThat(whole.get(i)).as("byte %d past the posted buffer", i).isZero();
        }
        assertThat(next(a).status()).isEqualTo(CompletionStatus.OK);
    }

    @Test
    void arrivalWithoutAPostedBufferIsDroppedAndCounted() {
        a.send(ab, pattern(10, 1), 0, 10, SendPath.PINNED, 1);
        assertThat(next(a).status()).isEqualTo(CompletionStatus.OK);
        assertThat(nic.stats().drops().get(DropReason.NO_BUFFER)).isEqualTo(1);
        assertThat(b.poll()).isNull();
    }

    @Test
    void closeCompletesPendingSendsAndPostedReceivesWithClosedAndUnpins() {
        for (int i = 0; i < 3; i++) {
            b.postReceive(ByteBuffer.allocateDirect(64), 100 + i);
        }
        ByteBuffer source = pattern(64, 1);
        a.send(ab, source, 0, 64, SendPath.PINNED, 1);
        a.send(ab, source, 0, 64, SendPath.FIXED_SEGMENT, 2);
        a.close();
        b.close();
        List<Completion> all = new ArrayList<>();
        Completion c;
        while ((c = a.poll()) != null) {
            all.add(c);
        }
        while ((c = b.poll()) != null) {
            all.add(c);
        }
        assertThat(all).hasSize(5).allMatch(x -> x.status() == CompletionStatus.CLOSED);
        assertThat(all).extracting(Completion::cookie).containsExactlyInAnyOrder(1L, 2L, 100L, 101L, 102L);
        assertThatThrownBy(() -> a.send(ab, source, 0, 64, SendPath.PINNED, 3)).isInstanceOf(ClosedException.class);
        assertThatThrownBy(() -> b.postReceive(source, 0)).isInstanceOf(ClosedException.class);
        assertThat(nic.stats().pins().inUseRegions()).isZero();
    }

    @Test
    void badDescriptorsGetTypedErrors() {
        ByteBuffer direct = ByteBuffer.allocateDirect(64);
        assertThatThrownBy(() -> b.postReceive(direct.asReadOnlyBuffer(), 0))
                .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("read-only");
        assertThatThrownBy(() -> b.postReceive(ByteBuffer.allocate(64), 0)).isInstanceOf(UnpinnableBufferException.class);
        assertThatThrownBy(() -> a.send(ba, direct, 0, 64, SendPath.PINNED, 0))
                .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("does not belong");
        assertThatThrownBy(() -> a.send(ab, direct, 10, 64, SendPath.PINNED, 0))
                .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("outside");
        Channel unconnected = a.openChannel();
        assertThatThrownBy(() -> a.send(unconnected, direct, 0, 1, SendPath.PINNED, 0))
                .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("not connected");
        unconnected.close();
        assertThatThrownBy(() -> a.send(unconnected, direct, 0, 1, SendPath.PINNED, 0)).isInstanceOf(ClosedException.class);
        ByteBuffer[] many = new ByteBuffer[17];
        java.util.Arrays.fill(many, direct);
        assertThatThrownBy(() -> a.sendGather(ab, many, new int[17], new int[17], 17, SendPath.PINNED, 0))
                .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("maxScatter");
        assertThatThrownBy(() -> a.send(ab, ByteBuffer.allocate(2 << 20), 0, 2 << 20, SendPath.FIXED_SEGMENT, 0))
                .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("larger than the fixed segment");
        assertThat(a.stats().sendsAccepted()).isZero();
    }

    @Test
    void nicThreadModeDeliversWithoutCallerProgress() {
        try (Nic threaded = Nic.open(NicConfig.builder().progressMode(ProgressMode.NIC_THREAD).build());
             Endpoint x = threaded.openEndpoint(); Endpoint y = threaded.openEndpoint()) {
            Channel xy = x.openChannel();
            Channel yx = y.openChannel();
            xy.connect(yx.address());
            yx.connect(xy.address());
            ByteBuffer target = ByteBuffer.allocateDirect(256);
            y.postReceive(target, 1);
            x.send(xy, pattern(256, 9), 0, 256, SendPath.PINNED, 2);
            Completion r = y.await(Duration.ofSeconds(5));
            assertThat(r).isNotNull();
            assertThat(r.status()).isEqualTo(CompletionStatus.OK);
            assertThat(target).isEqualTo(pattern(256, 9));
            assertThat(x.await(Duration.ofSeconds(5)).status()).isEqualTo(CompletionStatus.OK);
        }
    }

    @Test
    void completionsCanBeTakenAsFutures() throws Exception {
        org.unetmm.CompletionFutures futures = new org.unetmm.CompletionFutures();
        a.onCompletion(futures);
        b.onCompletion(futures);
        java.util.concurrent.CompletableFuture<Completion> received = futures.expect(11);
        java.util.concurrent.CompletableFuture<Completion> sent = futures.expect(12);
        b.postReceive(ByteBuffer.allocateDirect(128), 11);
        a.send(ab, pattern(100, 1), 0, 100, SendPath.PINNED, 12);
        nic.progress();
        assertThat(sent.get(5, TimeUnit.SECONDS).status()).isEqualTo(CompletionStatus.OK);
        assertThat(received.get(5, TimeUnit.SECONDS).length()).isEqualTo(100);
        assertThat(futures.pending()).isZero();
    }

    @Test
    void messagesLargerThanThePinBudgetStillMoveTheTlbGivesUpPins() {
        long page = org.unetmm.pinning.NativeMemory.pageSize();
        long budget = 32 * page;
        try (Nic small = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER)
                .pinBudget(org.unetmm.pinning.PinBudget.ofBytes(budget)).tlb(64, 4, org.unetmm.tlb.ReplacementPolicy.LRU).build());
             Endpoint x = small.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
             Endpoint y = small.openEndpoint(EndpointConfig.builder().segmentBytes(0).build())) {
            Channel xy = x.openChannel();
            Channel yx = y.openChannel();
            xy.connect(yx.address());
            yx.connect(xy.address());
            int size = 1 << 20; // 256 pages each side, 16x the budget
            for (int round = 0; round < 3; round++) {
                ByteBuffer source = pattern(size, round);
                ByteBuffer target = ByteBuffer.allocateDirect(size);
                y.postReceive(target, round);
                x.send(xy, source, 0, size, SendPath.PINNED, round);
                assertThat(x.await(Duration.ofSeconds(10)).status()).isEqualTo(CompletionStatus.OK);
                assertThat(y.await(Duration.ofSeconds(10)).status()).isEqualTo(CompletionStatus.OK);
                assertThat(target).isEqualTo(source);
                assertThat(small.stats().pins().peakPinnedBytes()).isLessThanOrEqualTo(budget);
                assertThat(ProcessStatus.vmLckBytes() - baseline).as("the kernel agrees")
                        .isEqualTo(small.experiments().pinnedBytes() + nic.experiments().pinnedBytes());
            }
        }
    }

    @Test
    void freeingMemoryTheNicStillOwnsIsRefusedUntilItsCompletion() {
        org.unetmm.pinning.NativeBuffer sendMemory = org.unetmm.pinning.NativeMemory.allocate(8192);
        org.unetmm.pinning.NativeBuffer receiveMemory = org.unetmm.pinning.NativeMemory.allocate(8192);
        b.postReceive(receiveMemory.buffer(), 1);
        a.send(ab, sendMemory.buffer(), 0, 8192, SendPath.PINNED, 2);
        assertThatThrownBy(sendMemory::close).isInstanceOf(org.unetmm.pinning.PinInUseException.class)
                .hasMessageContaining("queued send");
        assertThatThrownBy(receiveMemory::close).isInstanceOf(org.unetmm.pinning.PinInUseException.class)
                .hasMessageContaining("posted receive");
        assertThat(sendMemory.isFreed()).isFalse();
        next(a);
        next(b);
        sendMemory.close(); // completions returned both buffers: freeing is fine now, translations go first
        receiveMemory.close();
        assertThat(sendMemory.isFreed()).isTrue();
        assertThat(nic.experiments().translates(a, sendMemory.address())).isFalse();
    }

    @Test
    void unknownTransportSchemeNamesTheKnownOnes() {
        assertThatThrownBy(() -> Nic.open(NicConfig.builder().transport("carrier-pigeon:x").build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("loopback:");
    }
}
