package org.unetmm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.unetmm.spi.FrameHeader;

class FrameChecksumTest {
    private static FrameHeader header() {
        FrameHeader h = new FrameHeader();
        h.type = FrameHeader.TYPE_DATA;
        h.sourceTag = 3;
        h.destinationTag = 4;
        h.messageId = 77;
        h.fragmentOffset = 4096;
        h.messageLength = 10_000;
        h.fragmentLength = 5000;
        h.flags = FrameHeader.FLAG_RELIABLE | FrameHeader.FLAG_ACK | FrameHeader.FLAG_CHECKSUM;
        h.ack = 12;
        return h;
    }

    @Test
    void everyHeaderFieldAndEveryPayloadBitIsCovered() {
        ByteBuffer payload = ByteBuffer.allocateDirect(10_000);
        for (int i = 0; i < payload.capacity(); i++) {
            payload.put(i, (byte) i);
        }
        FrameChecksum crc = new FrameChecksum();
        int reference = crc.start(header()).update(payload, 100, 5000).value();
        assertThat(new FrameChecksum().start(header()).update(payload.duplicate(), 100, 5000).value()).isEqualTo(reference);
        for (int field = 0; field < 9; field++) {
            FrameHeader h = header();
            switch (field) {
                case 0 -> h.type = FrameHeader.TYPE_ACK;
                case 1 -> h.sourceTag ^= 1;
                case 2 -> h.destinationTag ^= 1;
                case 3 -> h.messageId ^= 1L << 40;
                case 4 -> h.fragmentOffset ^= 1;
                case 5 -> h.messageLength ^= 1;
                case 6 -> h.fragmentLength ^= 1;
                case 7 -> h.flags ^= FrameHeader.FLAG_PROBE;
                default -> h.ack ^= 1L << 63;
            }
            assertThat(crc.start(h).update(payload, 100, 5000).value()).as("field %d", field).isNotEqualTo(reference);
        }
        for (int bit = 0; bit < 5000 * 8; bit += 997) {
            int at = 100 + bit / 8;
            payload.put(at, (byte) (payload.get(at) ^ (1 << (bit % 8))));
            assertThat(crc.start(header()).update(payload, 100, 5000).value()).as("bit %d", bit).isNotEqualTo(reference);
            payload.put(at, (byte) (payload.get(at) ^ (1 << (bit % 8))));
        }
        assertThat(payload.position()).as("the buffer's position is not touched").isZero();
    }

    @Test
    void aPayloadIsReadInPlaceUpToItsCapacityWhateverItsCursorsAndKindAreAndThoseCursorsStay() {
        byte[] bytes = new byte[9000];
        new java.util.Random(5).nextBytes(bytes);
        FrameChecksum crc = new FrameChecksum();
        crc.start(header());
        int headerOnly = crc.value();
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).clear();
        ByteBuffer heap = ByteBuffer.wrap(bytes);
        ByteBuffer readOnly = direct.asReadOnlyBuffer();
        direct.position(17).limit(20); // a fragment past the limit is still the NIC's to read (capacity rule)
        int[][] ranges = {{0, 9000}, {100, 5000}, {8999, 1}, {4096, 4096}};
        for (int[] r : ranges) {
            int fromDirect = crc.start(header()).update(direct, r[0], r[1]).value();
            assertThat(crc.start(header()).update(heap, r[0], r[1]).value()).as("heap %s", r[0]).isEqualTo(fromDirect);
            assertThat(crc.start(header()).update(readOnly, r[0], r[1]).value()).as("read-only %s", r[0]).isEqualTo(fromDirect);
            // two pieces of one fragment give the fragment's checksum
            int half = r[1] / 2;
            assertThat(crc.start(header()).update(direct, r[0], half).update(heap, r[0] + half, r[1] - half).value())
                    .as("in pieces %s", r[0]).isEqualTo(fromDirect);
            assertThat(fromDirect).isNotEqualTo(headerOnly);
        }
        assertThat(direct.position()).isEqualTo(17);
        assertThat(direct.limit()).isEqualTo(20);
        assertThat(heap.position()).isZero();
    }

    @Test
    void checksummingFragmentsOfManyDifferentBuffersAllocatesNothing() {
        ByteBuffer[] buffers = new ByteBuffer[64];
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = i % 2 == 0 ? ByteBuffer.allocateDirect(2048) : ByteBuffer.allocate(2048);
        }
        FrameChecksum crc = new FrameChecksum();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        FrameHeader h = header();
        long sink = 0;
        for (int warm = 0; warm < 20_000; warm++) { // compiled first: the interpreter allocates on its own
            sink += crc.start(h).update(buffers[warm % buffers.length], warm % 1024, 1000).value();
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 20_000; i++) {
            sink += crc.start(h).update(buffers[i % buffers.length], i % 1024, 1000).value();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(allocated).as("bytes allocated over 20,000 fragments of 64 buffers (checksum sum %d)", sink)
                .isLessThan(20_000);
    }

    @Test
    void aRangeOutsideTheBufferIsRefusedBeforeAnythingIsRead() {
        ByteBuffer direct = ByteBuffer.allocateDirect(100);
        FrameChecksum crc = new FrameChecksum().start(header());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> crc.update(direct, 90, 11))
                .isInstanceOf(IndexOutOfBoundsException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> crc.update(direct, -1, 2))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }
}
