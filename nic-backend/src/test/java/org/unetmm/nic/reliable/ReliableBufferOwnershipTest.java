package org.unetmm.nic.reliable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.nic.fault.FaultConfig;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinInUseException;
import org.unetmm.pinning.ProcessStatus;

/**
 * Buffer ownership on reliable channels: a reliable send's buffer is the NIC's until the peer acknowledged it, and not
 * a moment longer. Modifying it after the completion never changes what was delivered; freeing
 * it before is refused; the reuse check catches a modification made before the acknowledgement.
 */
@Timeout(60)
class ReliableBufferOwnershipTest {
    private static final ChannelConfig OPTIONS = ChannelConfig.builder().reliable(true)
            .initialRto(Duration.ofMillis(1)).minRto(Duration.ofNanos(300_000)).maxRto(Duration.ofMillis(20))
            .maxRetransmits(10).ackDelay(Duration.ofNanos(20_000)).build();

    private final List<Nic> nics = new ArrayList<>();
    private final long baseline = ProcessStatus.vmLckBytes();

    @AfterEach
    void closeAll() {
        nics.forEach(Nic::close);
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    private Nic nic(NicConfig.Builder config) {
        Nic nic = Nic.open(config.progressMode(ProgressMode.CALLER).build());
        nics.add(nic);
        return nic;
    }

    private static Channel[] connect(Endpoint a, Endpoint b) {
        Channel ab = a.openChannel(OPTIONS);
        Channel ba = b.openChannel(OPTIONS);
        ab.connect(ba.address());
        ba.connect(ab.address());
        return new Channel[] {ab, ba};
    }

    private Completion next(Endpoint endpoint) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            Completion c = endpoint.poll();
            if (c != null) {
                return c;
            }
            nics.forEach(Nic::progress);
        }
        throw new AssertionError("no completion within 10 s");
    }

    private void spin(int passes) {
        for (int i = 0; i < passes; i++) {
            nics.forEach(Nic::progress);
        }
    }

    @Test
    void sendBufferModifiedAfterItsCompletionNeverChangesDeliveredData() {
        // late duplicates and reordered copies are still on the wire when the sends complete
        Nic nic = nic(NicConfig.builder().transport(new FaultConfig(0.1, 0.2, 0.2, 0, Duration.ZERO, 3)
                .wrap("loopback:")).mtu(1024));
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint();
        Channel[] pair = connect(a, b);
        NativeBuffer source = NativeMemory.allocate(8192);
        List<ByteBuffer> delivered = new ArrayList<>();
        for (int round = 0; round < 50; round++) {
            ByteBuffer bytes = source.buffer();
            for (int i = 0; i < 5000; i++) {
                bytes.put(i, (byte) (round + i));
            }
            ByteBuffer target = ByteBuffer.allocateDirect(8192);
            b.postReceive(target, round);
            assertThat(a.send(pair[0], bytes, 0, 5000, SendPath.PINNED, round)).isEqualTo(SendStatus.ACCEPTED);
            Completion sent = next(a);
            assertThat(sent.status()).isEqualTo(CompletionStatus.OK);
            for (int i = 0; i < 5000; i++) {
                bytes.put(i, (byte) 0x77); // ours again: scribble over it at once
            }
            delivered.add(target);
            spin(50); // let any duplicates still on the wire arrive
        }
        Completion c;
        int received = 0;
        while ((c = b.poll()) != null) {
            assertThat(c.status()).isEqualTo(CompletionStatus.OK);
            received++;
        }
        assertThat(received).isEqualTo(50);
        for (int round = 0; round < 50; round++) {
            ByteBuffer target = delivered.get(round);
            for (int i = 0; i < 5000; i++) {
                assertThat(target.get(i)).as("round %d byte %d", round, i).isEqualTo((byte) (round + i));
            }
        }
        source.close(); // and the NIC holds nothing of it: freeing is allowed
    }

    @Test
    void freeingASendBufferBeforeTheAcknowledgementIsRefused() {
        Nic nic = nic(NicConfig.builder().mtu(4096));
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint();
        Channel[] pair = connect(a, b);
        NativeBuffer source = NativeMemory.allocate(4096);
        a.send(pair[0], source.buffer(), 0, 4096, SendPath.PINNED, 1);
        spin(100); // sent, even retransmitted, but no buffer at the peer: not acknowledged
        assertThat(a.poll()).isNull();
        assertThatThrownBy(source::close).isInstanceOf(PinInUseException.class)
                .hasMessageContaining("reliable send not yet acknowledged");
        b.postReceive(ByteBuffer.allocateDirect(4096), 2);
        assertThat(next(a).status()).isEqualTo(CompletionStatus.OK);
        source.close();
    }

    @Test
    void reuseCheckFlagsASendBufferModifiedBeforeTheAcknowledgement() {
        Nic nic = nic(NicConfig.builder().mtu(4096).reuseCheck(true));
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint();
        Channel[] pair = connect(a, b);
        ByteBuffer source = ByteBuffer.allocateDirect(1000);
        a.send(pair[0], source, 0, 1000, SendPath.PINNED, 1);
        spin(50); // on the wire, not acknowledged (no posted buffer yet)
        source.put(10, (byte) 1); // too early: the NIC may still read it for a retransmission
        b.postReceive(ByteBuffer.allocateDirect(1000), 2);
        Completion c = next(a);
        assertThat(c.status()).isEqualTo(CompletionStatus.BUFFER_MODIFIED);
        assertThat(c.detail()).contains("acknowledged");
        source.put(10, (byte) 0);
        b.postReceive(ByteBuffer.allocateDirect(1000), 3);
        a.send(pair[0], source, 0, 1000, SendPath.PINNED, 4);
        assertThat(next(a).status()).as("left alone until the completion: no complaint").isEqualTo(CompletionStatus.OK);
    }

    @Test
    void segmentSpaceOfAnUnacknowledgedSendIsNotReusedWhileLaterSendsOfOtherChannelsComplete() {
        Nic nic = nic(NicConfig.builder().mtu(4096));
        Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(64 * 1024).build());
        Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
        Endpoint c = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
        Channel[] stalled = connect(a, b); // b posts nothing for now: its message waits in the segment
        Channel[] flowing = connect(a, c);
        ByteBuffer first = ByteBuffer.allocate(16 * 1024);
        for (int i = 0; i < first.capacity(); i++) {
            first.put(i, (byte) (i * 3));
        }
        assertThat(a.send(stalled[0], first, 0, first.capacity(), SendPath.FIXED_SEGMENT, 1)).isEqualTo(SendStatus.ACCEPTED);
        ByteBuffer filler = ByteBuffer.allocate(16 * 1024);
        int completed = 0;
        int segmentFull = 0;
        for (int i = 0; i < 40; i++) { // 10x the segment behind the stalled message
            c.postReceive(ByteBuffer.allocateDirect(16 * 1024), 100 + i);
            for (int k = 0; k < filler.capacity(); k++) {
                filler.put(k, (byte) 0x55);
            }
            SendStatus status = a.send(flowing[0], filler, 0, filler.capacity(), SendPath.FIXED_SEGMENT, 10 + i);
            if (status == SendStatus.SEGMENT_FULL) {
                segmentFull++;
            }
            spin(20);
            Completion done;
            while ((done = a.poll()) != null) {
                assertThat(done.status()).isEqualTo(CompletionStatus.OK);
                assertThat(done.cookie()).isNotEqualTo(1);
                completed++;
            }
        }
        assertThat(completed).as("later sends of another channel completed").isPositive();
        assertThat(segmentFull).as("the segment filled up behind the stalled message instead of reusing it").isPositive();
        ByteBuffer target = ByteBuffer.allocateDirect(16 * 1024);
        b.postReceive(target, 2);
        Completion received = next(b);
        assertThat(received.status()).isEqualTo(CompletionStatus.OK);
        for (int i = 0; i < target.capacity(); i++) {
            assertThat(target.get(i)).as("byte %d of the stalled message", i).isEqualTo((byte) (i * 3));
        }
    }
}
