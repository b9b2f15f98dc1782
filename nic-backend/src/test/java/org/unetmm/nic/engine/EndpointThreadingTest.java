package org.unetmm.nic.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.ConcurrentEndpointUseException;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.pinning.ProcessStatus;

/**
 * An endpoint's rings are single-producer, single-consumer by contract. Two application threads
 * on one side at once are refused with a typed error naming the contract, before either touches
 * the ring: nothing is corrupted, every accepted send completes once, and close leaves nothing
 * pinned. Passing a side from one thread to another between calls stays legal.
 */
@Timeout(120)
class EndpointThreadingTest {
    /** Calls each thread makes at least; it goes on (for at most 20 s) until the two have overlapped. */
    private static final int CALLS = 200_000;

    @Test
    void twoThreadsSendingOnOneEndpointAreRefusedAndNothingIsCorruptedOrLeftPinned() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        Nic nic = Nic.open();
        Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(1 << 20).build());
        Endpoint b = nic.openEndpoint();
        Channel[] ab = Pairs.connect(a, b);
        ConcurrentHashMap<Long, Boolean> accepted = new ConcurrentHashMap<>();
        AtomicLong refusals = new AtomicLong();
        AtomicReference<String> refusal = new AtomicReference<>();
        AtomicReference<Throwable> other = new AtomicReference<>();
        AtomicLong completions = new AtomicLong();
        Set<Long> completed = ConcurrentHashMap.newKeySet();
        AtomicBoolean duplicate = new AtomicBoolean();
        a.onCompletion(c -> {
            completions.incrementAndGet();
            if (!completed.add(c.cookie())) {
                duplicate.set(true);
            }
        });
        CountDownLatch start = new CountDownLatch(1);
        AtomicLong ready = new AtomicLong();
        Thread[] senders = new Thread[2];
        for (int t = 0; t < 2; t++) {
            long base = (long) t << 40;
            senders[t] = new Thread(() -> {
                ByteBuffer message = ByteBuffer.allocate(32); // FIXED_SEGMENT: segment tickets were what broke
                try {
                    start.await();
                    ready.incrementAndGet();
                    while (ready.get() < 2) { // both threads running before either sends, however loaded the machine
                        Thread.onSpinWait();
                    }
                    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                    for (int i = 0; refusals.get() < 100 && (i < CALLS || refusals.get() == 0)
                            && System.nanoTime() - deadline < 0; i++) {
                        long cookie = base + i;
                        try {
                            if (a.send(ab[0], message, 0, 32, SendPath.FIXED_SEGMENT, cookie) == SendStatus.ACCEPTED) {
                                accepted.put(cookie, true);
                            }
                        } catch (ConcurrentEndpointUseException e) {
                            refusals.incrementAndGet();
                            refusal.compareAndSet(null, e.getMessage());
                        }
                    }
                } catch (Throwable e) {
                    other.compareAndSet(null, e);
                }
            }, "sender-" + t);
            senders[t].start();
        }
        start.countDown();
        for (Thread s : senders) {
            s.join();
        }
        assertThat(other.get()).as("no other failure in the senders").isNull();
        assertThat(refusals.get()).as("overlapping sends were seen and refused").isPositive();
        assertThat(refusal.get()).contains("send queue").contains("one application thread at a time")
                .contains("its own endpoint");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (completions.get() < accepted.size() && System.nanoTime() - deadline < 0) {
            Thread.onSpinWait();
        }
        assertThat(completions.get()).as("every accepted send completed").isEqualTo(accepted.size());
        assertThat(duplicate).as("no send completed twice").isFalse();
        assertThat(completed).isEqualTo(accepted.keySet());
        assertThatCode(nic::close).doesNotThrowAnyException();
        assertThat(nic.isClosed()).isTrue();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }

    @Test
    void twoThreadsPollingOneEndpointAreRefusedAndNoCompletionIsDuplicatedOrLost() throws Exception {
        int messages = 20_000;
        try (Nic nic = Nic.open()) {
            Endpoint a = nic.openEndpoint(EndpointConfig.builder().completionQueue(1 << 16).build());
            Endpoint b = nic.openEndpoint();
            Channel[] ab = Pairs.connect(a, b);
            ByteBuffer message = ByteBuffer.allocate(16);
            Set<Long> seen = ConcurrentHashMap.newKeySet();
            AtomicBoolean duplicate = new AtomicBoolean();
            AtomicLong refusals = new AtomicLong();
            AtomicLong sent = new AtomicLong();
            AtomicBoolean sending = new AtomicBoolean(true);
            Thread[] pollers = new Thread[2];
            for (int t = 0; t < 2; t++) {
                pollers[t] = new Thread(() -> {
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    // until every completion is taken and (on a loaded machine the two may seldom run at
                    // once) the check was seen to refuse an overlap at least once
                    while ((sending.get() || seen.size() < sent.get() || refusals.get() == 0)
                            && System.nanoTime() - deadline < 0) {
                        try {
                            Completion c = a.poll();
                            if (c != null && !seen.add(c.cookie())) {
                                duplicate.set(true);
                            }
                        } catch (ConcurrentEndpointUseException e) {
                            refusals.incrementAndGet();
                        }
                    }
                }, "poller-" + t);
                pollers[t].start();
            }
            for (long i = 0; i < messages; ) {
                if (a.send(ab[0], message, 0, 16, SendPath.FIXED_SEGMENT, i) == SendStatus.ACCEPTED) {
                    i++;
                    sent.set(i);
                }
            }
            sending.set(false);
            for (Thread p : pollers) {
                p.join();
            }
            assertThat(refusals.get()).as("overlapping polls were seen and refused").isPositive();
            assertThat(duplicate).as("no completion was handed out twice").isFalse();
            Set<Long> expected = new HashSet<>();
            for (long i = 0; i < messages; i++) {
                expected.add(i);
            }
            assertThat(seen).as("no completion was lost").isEqualTo(expected);
        }
    }

    @Test
    void aSidePassedFromOneThreadToAnotherBetweenCallsIsAccepted() throws Exception {
        try (Nic nic = Nic.open()) {
            Endpoint a = nic.openEndpoint();
            Endpoint b = nic.openEndpoint();
            Channel[] ab = Pairs.connect(a, b);
            ByteBuffer message = ByteBuffer.allocateDirect(16);
            b.postReceive(ByteBuffer.allocateDirect(16), 1);
            assertThat(a.send(ab[0], message, 0, 16, SendPath.PINNED, 1)).isEqualTo(SendStatus.ACCEPTED);
            AtomicReference<Object> result = new AtomicReference<>();
            Thread other = new Thread(() -> {
                try {
                    b.postReceive(ByteBuffer.allocateDirect(16), 2);
                    result.set(a.send(ab[0], ByteBuffer.allocateDirect(16), 0, 16, SendPath.PINNED, 2));
                } catch (Throwable e) {
                    result.set(e);
                }
            });
            other.start();
            other.join();
            assertThat(result.get()).isEqualTo(SendStatus.ACCEPTED);
            assertThat(a.await(Duration.ofSeconds(5))).isNotNull();
            assertThat(a.await(Duration.ofSeconds(5))).isNotNull();
        }
    }
}
