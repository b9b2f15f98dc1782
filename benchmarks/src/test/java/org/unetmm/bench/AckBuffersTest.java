package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.unetmm.Channel;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;

/** A stream sender's acknowledgement buffers: acknowledgements that arrive in one round are all read. */
class AckBuffersTest {
    private static final int IN_ONE_ROUND = 4;

    @Test
    void acknowledgementsArrivingInOneProgressRoundAreAllReadAndNoneDropped() {
        AckBuffers buffers = null;
        try (Nic nic = Nic.open(NicConfig.builder().transport("loopback:").progressMode(ProgressMode.CALLER).build())) {
            Endpoint acks = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Endpoint acker = nic.openEndpoint(EndpointConfig.builder().segmentBytes(4096).build());
            Channel in = acks.openChannel();
            Channel out = acker.openChannel();
            in.connect(out.address());
            out.connect(in.address());
            AckBuffers posted = new AckBuffers(acks);
            buffers = posted;
            posted.postAll();
            ByteBuffer count = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
            List<Long> read = new ArrayList<>();
            for (long sent = 1; sent <= IN_ONE_ROUND; sent++) { // all queued before the NIC runs a round
                count.putLong(0, sent * 64);
                assertThat(acker.send(out, count, 0, 8, SendPath.FIXED_SEGMENT, sent).isAccepted()).isTrue();
            }
            for (int round = 0; round < 100 && read.size() < IN_ONE_ROUND; round++) {
                nic.progress();
                acks.poll(c -> read.add(posted.taken(c)), 16);
                acker.poll(c -> { }, 16);
            }
            assertThat(read).containsExactly(64L, 128L, 192L, 256L);
            assertThat(nic.stats().drops().get(DropReason.NO_BUFFER)).isZero();
            count.putLong(0, 320); // each buffer was posted again as it was read: the next one finds room too
            assertThat(acker.send(out, count, 0, 8, SendPath.FIXED_SEGMENT, 99).isAccepted()).isTrue();
            for (int round = 0; round < 100 && read.size() < IN_ONE_ROUND + 1; round++) {
                nic.progress();
                acks.poll(c -> read.add(posted.taken(c)), 16);
                acker.poll(c -> { }, 16);
            }
            assertThat(read).endsWith(320L);
        } finally {
            if (buffers != null) {
                buffers.close(); // after the NIC: it refuses to free memory still posted
            }
        }
    }
}
