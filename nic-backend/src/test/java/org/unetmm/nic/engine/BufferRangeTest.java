package org.unetmm.nic.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.InvalidDescriptorException;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.pinning.ProcessStatus;

/**
 * The one rule for which bytes a ByteBuffer offers: explicit (offset, length) are absolute
 * indices inside its capacity, whatever its position and limit, on both send paths and for
 * receives, on every wire. A range outside the capacity is refused before anything is taken.
 */
@Timeout(60)
class BufferRangeTest {
    private static final int SIZE = 4096;

    /** Two NICs in CALLER mode on one wire (loopback or udp), each with one endpoint, connected. */
    private static final class Pair implements AutoCloseable {
        final Nic nicA;
        final Nic nicB;
        final Endpoint a;
        final Endpoint b;
        final Channel ab;
        final long baseline = ProcessStatus.vmLckBytes();

        Pair(String wire) {
            String uri = wire.equals("udp") ? "udp://127.0.0.1:0" : "loopback:";
            nicA = Nic.open(NicConfig.builder().transport(uri).progressMode(ProgressMode.CALLER).build());
            nicB = Nic.open(NicConfig.builder().transport(uri).progressMode(ProgressMode.CALLER).build());
            a = nicA.openEndpoint(EndpointConfig.builder().segmentBytes(64 << 10).build());
            b = nicB.openEndpoint();
            ab = a.openChannel();
            Channel ba = b.openChannel();
            ab.connect(ba.address());
            ba.connect(ab.address());
        }

        /** Drives both NICs until {@code endpoint} has a completion. */
        Completion next(Endpoint endpoint) {
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() - deadline < 0) {
                nicA.progress();
                nicB.progress();
                Completion c = endpoint.poll();
                if (c != null) {
                    return c;
                }
            }
            throw new AssertionError("no completion on " + endpoint + " within 5 s");
        }

        @Override
        public void close() {
            nicA.close();
            nicB.close();
            assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
        }
    }

    private static ByteBuffer pattern(ByteBuffer buffer, int seed) {
        for (int i = 0; i < buffer.capacity(); i++) {
            buffer.put(i, (byte) (i * 31 + seed));
        }
        return buffer;
    }

    private static void assertPattern(ByteBuffer received, int offset, int length, int seed) {
        ByteBuffer buffer = received.duplicate().clear(); // read the bytes, whatever the application's cursors say
        for (int i = 0; i < length; i++) {
            if (buffer.get(offset + i) != (byte) (i * 31 + seed)) {
                throw new AssertionError("byte " + i + " of the message differs");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"loopback", "udp"})
    void aFixedSegmentSendBeyondTheLimitSendsFromTheCapacityAndTheEndpointKeepsWorking(String wire) {
        try (Pair p = new Pair(wire)) {
            for (int round = 0; round < 100; round++) {
                ByteBuffer out = pattern(ByteBuffer.allocate(SIZE), round);
                out.limit(10); // the application's cursor says nothing about which bytes the NIC may read
                ByteBuffer in = ByteBuffer.allocateDirect(SIZE);
                p.b.postReceive(in, round);
                assertThat(p.a.send(p.ab, out, 0, SIZE, SendPath.FIXED_SEGMENT, round)).as("round " + round)
                        .isEqualTo(SendStatus.ACCEPTED);
                assertThat(p.next(p.a).status()).isEqualTo(CompletionStatus.OK);
                Completion r = p.next(p.b);
                assertThat(r.status()).isEqualTo(CompletionStatus.OK);
                assertThat(r.length()).isEqualTo(SIZE);
                assertPattern(in, 0, SIZE, round);
                assertThat(out.limit()).as("the cursors are not moved").isEqualTo(10);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"loopback", "udp"})
    void aRangeOutsideTheCapacityIsRefusedBeforeAnythingIsTaken(String wire) {
        try (Pair p = new Pair(wire)) {
            ByteBuffer small = ByteBuffer.allocate(100);
            for (int i = 0; i < 200; i++) { // more refusals than the send queue and the segment could absorb
                assertThatThrownBy(() -> p.a.send(p.ab, small, 50, 51, SendPath.FIXED_SEGMENT, 1))
                        .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("capacity 100");
                assertThatThrownBy(() -> p.b.postReceive(ByteBuffer.allocateDirect(100), 90, 11, 1))
                        .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("capacity 100");
            }
            ByteBuffer out = pattern(ByteBuffer.allocate(SIZE), 3);
            ByteBuffer in = ByteBuffer.allocateDirect(SIZE);
            p.b.postReceive(in, 1);
            assertThat(p.a.send(p.ab, out, 0, SIZE, SendPath.FIXED_SEGMENT, 2)).isEqualTo(SendStatus.ACCEPTED);
            assertThat(p.next(p.b).status()).isEqualTo(CompletionStatus.OK);
            assertPattern(in, 0, SIZE, 3);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"loopback", "udp"})
    void aBufferRepostedAfterTheApplicationReadItReceivesTheWholeNextMessage(String wire) {
        try (Pair p = new Pair(wire)) {
            ByteBuffer in = ByteBuffer.allocateDirect(SIZE);
            ByteBuffer out = pattern(ByteBuffer.allocateDirect(SIZE), 1);
            for (int round = 0; round < 3; round++) {
                p.b.postReceive(in, round);
                p.a.send(p.ab, out, 0, SIZE, SendPath.PINNED, round);
                assertThat(p.next(p.a).status()).as("the sender's send, round " + round).isEqualTo(CompletionStatus.OK);
                Completion r = p.next(p.b);
                assertThat(r.status()).as("round " + round).isEqualTo(CompletionStatus.OK);
                assertThat(r.length()).isEqualTo(SIZE);
                assertPattern(in, 0, SIZE, 1);
                in.position(0).limit(10); // the application reads a 10-byte header, then posts the buffer again
                in.get(new byte[10]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"loopback", "udp"})
    void aLongerMessageIntoAShorterPostedRegionIsTruncatedForTheReceiverOnly(String wire) {
        try (Pair p = new Pair(wire)) {
            ByteBuffer in = ByteBuffer.allocateDirect(SIZE);
            p.b.postReceive(in, 100, 10, 7); // ten bytes at offset 100
            ByteBuffer out = pattern(ByteBuffer.allocateDirect(SIZE), 5);
            p.a.send(p.ab, out, 0, SIZE, SendPath.PINNED, 8);
            assertThat(p.next(p.a).status()).as("the sender's send").isEqualTo(CompletionStatus.OK);
            Completion r = p.next(p.b);
            assertThat(r.status()).isEqualTo(CompletionStatus.TRUNCATED);
            assertThat(r.length()).isEqualTo(10);
            assertThat(r.offset()).isEqualTo(100);
            assertPattern(in, 100, 10, 5);
            assertThat(in.get(99)).as("nothing before the region").isZero();
            assertThat(in.get(110)).as("nothing after the region").isZero();
        }
    }
}
