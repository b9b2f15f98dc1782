package org.unetmm.nic.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionHandlerException;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;

/**
 * A completion handler that throws is the application's bug, not the NIC's end: its exception is
 * reported to the NIC's error handler and counted, the completion is not delivered again, and the
 * engine goes on serving every endpoint — on the NIC thread and in CALLER mode alike.
 */
@Timeout(60)
class CompletionHandlerFaultTest {

    @Test
    void aThrowingHandlerIsReportedAndAnUnrelatedEndpointPairKeepsWorking() throws Exception {
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        try (Nic nic = Nic.open(NicConfig.builder().errorHandler(reported::add).build())) {
            Endpoint a = nic.openEndpoint();
            Endpoint b = nic.openEndpoint();
            Channel[] ab = Pairs.connect(a, b);
            ConcurrentHashMap<Long, AtomicInteger> seen = new ConcurrentHashMap<>();
            a.onCompletion(c -> {
                seen.computeIfAbsent(c.cookie(), k -> new AtomicInteger()).incrementAndGet();
                throw new IllegalStateException("application bug in the handler");
            });
            b.postReceive(ByteBuffer.allocateDirect(64), 1);
            assertThat(a.send(ab[0], ByteBuffer.allocateDirect(64), 0, 64, SendPath.PINNED, 7)).isEqualTo(SendStatus.ACCEPTED);
            assertThat(b.await(Duration.ofSeconds(5))).as("b's receive of a's message").isNotNull()
                    .extracting(Completion::status).isEqualTo(CompletionStatus.OK);

            // an unrelated pair on the same NIC: the NIC thread must still be serving it
            Endpoint c = nic.openEndpoint();
            Endpoint d = nic.openEndpoint();
            Channel[] cd = Pairs.connect(c, d);
            d.postReceive(ByteBuffer.allocateDirect(64), 2);
            c.send(cd[0], ByteBuffer.allocateDirect(64), 0, 64, SendPath.PINNED, 3);
            assertThat(c.await(Duration.ofSeconds(5))).as("c's send completion after a's handler threw").isNotNull()
                    .extracting(Completion::status).isEqualTo(CompletionStatus.OK);
            assertThat(d.await(Duration.ofSeconds(5))).as("d's receive").isNotNull();

            assertThat(seen.get(7L)).as("a's send completion is delivered once, not repeated").hasValue(1);
            assertThat(reported).hasSize(1).first().isInstanceOf(CompletionHandlerException.class)
                    .satisfies(e -> assertThat(e.getCause()).hasMessage("application bug in the handler"));
            assertThat(nic.stats().handlerErrors()).isEqualTo(1);
        }
    }

    @Test
    void inCallerModeTheHandlersExceptionStaysInsideProgressAndTheMessageIsDeliveredOnce() {
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        try (Nic nic = Nic.open(NicConfig.builder().progressMode(ProgressMode.CALLER).errorHandler(reported::add).build())) {
            Endpoint a = nic.openEndpoint();
            Endpoint b = nic.openEndpoint();
            Channel[] ab = Pairs.connect(a, b);
            AtomicInteger receives = new AtomicInteger();
            b.onCompletion(c -> {
                receives.incrementAndGet();
                throw new RuntimeException("throws on every receive");
            });
            for (int i = 0; i < 4; i++) {
                b.postReceive(ByteBuffer.allocateDirect(64), 10 + i);
            }
            a.send(ab[0], ByteBuffer.allocateDirect(64), 0, 64, SendPath.FIXED_SEGMENT, 1);
            for (int round = 0; round < 100; round++) {
                assertThatCode(nic::progress).as("progress round " + round).doesNotThrowAnyException();
            }
            assertThat(receives).as("one message, one receive upcall").hasValue(1);
            assertThat(reported).hasSize(1);
            assertThat(a.poll()).as("the sender's completion").isNotNull().extracting(Completion::status)
                    .isEqualTo(CompletionStatus.OK);
        }
    }

    @Test
    void anErrorHandlerThatThrowsIsIgnoredAndTheNicGoesOn() throws Exception {
        try (Nic nic = Nic.open(NicConfig.builder().errorHandler(e -> {
            throw new IllegalStateException("the error handler is broken too");
        }).build())) {
            Endpoint a = nic.openEndpoint();
            Endpoint b = nic.openEndpoint();
            Channel[] ab = Pairs.connect(a, b);
            CountDownLatch received = new CountDownLatch(3);
            b.onCompletion(c -> {
                received.countDown();
                throw new IllegalStateException("handler bug");
            });
            for (int i = 0; i < 3; i++) {
                b.postReceive(ByteBuffer.allocateDirect(64), i);
                a.send(ab[0], ByteBuffer.allocateDirect(64), 0, 64, SendPath.FIXED_SEGMENT, i);
            }
            assertThat(received.await(5, TimeUnit.SECONDS)).as("all three messages reached the handler").isTrue();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); // the third throw is counted after its countDown
            while (nic.stats().handlerErrors() < 3 && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
            assertThat(nic.stats().handlerErrors()).isEqualTo(3);
        }
    }
}
