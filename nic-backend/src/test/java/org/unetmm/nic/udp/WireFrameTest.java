package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.unetmm.spi.FrameHeader;

/** The wire header: its byte layout, and each check {@link WireFrame#decode} makes, named by its reason. */
class WireFrameTest {
    private final CRC32C crc = new CRC32C();

    private static FrameHeader header() {
        FrameHeader h = new FrameHeader();
        h.type = FrameHeader.TYPE_DATA;
        h.sourceTag = 3;
        h.destinationTag = 9;
        h.sourceConnection = 0x1122_3344_5566_7788L;
        h.destinationConnection = 0x99AA_BBCC_DDEE_FF00L;
        h.messageId = 0x0102_0304_0506_0708L;
        h.fragmentOffset = 1000;
        h.messageLength = 5000;
        h.fragmentLength = 1200;
        return h;
    }

    private ByteBuffer encoded(FrameHeader h) {
        ByteBuffer frame = ByteBuffer.allocate(WireFrame.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        WireFrame.encode(h, frame, crc);
        return frame;
    }

    private WireDropReason decode(ByteBuffer frame, int datagramLength) {
        return WireFrame.decode(frame, datagramLength, new FrameHeader(), crc);
    }

    @Test
    void everyFieldSurvivesTheRoundTrip() {
        FrameHeader sent = header();
        FrameHeader received = new FrameHeader();
        assertThat(WireFrame.decode(encoded(sent), WireFrame.HEADER_LENGTH + 1200, received, crc)).isNull();
        assertThat(received).usingRecursiveComparison().isEqualTo(sent);
    }

    @Test
    void fieldsSitAtTheDocumentedOffsetsLittleEndian() {
        ByteBuffer frame = encoded(header());
        byte[] bytes = frame.array();
        assertThat(new String(bytes, 0, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("UNMM");
        assertThat(bytes[WireFrame.VERSION_OFFSET]).isEqualTo((byte) WireFrame.VERSION);
        assertThat(bytes[WireFrame.TYPE_OFFSET]).isEqualTo((byte) FrameHeader.TYPE_DATA);
        assertThat(bytes[WireFrame.SOURCE_TAG_OFFSET]).isEqualTo((byte) 3);
        assertThat(bytes[WireFrame.DESTINATION_TAG_OFFSET]).isEqualTo((byte) 9);
        assertThat(bytes[WireFrame.MESSAGE_ID_OFFSET]).isEqualTo((byte) 0x08);
        assertThat(bytes[WireFrame.MESSAGE_ID_OFFSET + 7]).isEqualTo((byte) 0x01);
        assertThat(frame.getInt(WireFrame.FRAGMENT_OFFSET_OFFSET)).isEqualTo(1000);
        assertThat(frame.getInt(WireFrame.MESSAGE_LENGTH_OFFSET)).isEqualTo(5000);
        assertThat(frame.getInt(WireFrame.FRAGMENT_LENGTH_OFFSET)).isEqualTo(1200);
        assertThat(frame.getLong(WireFrame.SOURCE_CONNECTION_OFFSET)).isEqualTo(0x1122_3344_5566_7788L);
        assertThat(frame.getLong(WireFrame.DESTINATION_CONNECTION_OFFSET)).isEqualTo(0x99AA_BBCC_DDEE_FF00L);
        assertThat(WireFrame.CHECKSUM_OFFSET + 4).isEqualTo(WireFrame.HEADER_LENGTH);
    }

    @Test
    void theChecksumCoversEveryHeaderBit() {
        for (int bit = 32; bit < WireFrame.HEADER_LENGTH * 8; bit++) {
            ByteBuffer frame = encoded(header());
            frame.put(bit / 8, (byte) (frame.get(bit / 8) ^ (1 << (bit % 8))));
            assertThat(decode(frame, WireFrame.HEADER_LENGTH + 1200)).as("bit " + bit).isEqualTo(WireDropReason.BAD_CHECKSUM);
        }
    }

    @Test
    void eachCheckNamesItsReason() {
        assertThat(decode(encoded(header()), WireFrame.HEADER_LENGTH - 1)).isEqualTo(WireDropReason.SHORT_DATAGRAM);
        ByteBuffer magic = encoded(header());
        magic.put(0, (byte) 'X');
        assertThat(decode(magic, WireFrame.HEADER_LENGTH + 1200)).isEqualTo(WireDropReason.BAD_MAGIC);
        assertRejected(WireDropReason.BAD_TYPE, h -> h.type = 0);
        assertRejected(WireDropReason.BAD_TYPE, h -> h.type = 5);
        assertRejected(WireDropReason.BAD_FLAGS, h -> h.flags = 0x4000);
        assertRejected(WireDropReason.BAD_FLAGS, h -> h.flags = 0x4000 | WireFrame.FLAG_MORE);
        assertRejected(WireDropReason.BAD_TAG, h -> h.sourceTag = 0);
        assertRejected(WireDropReason.BAD_TAG, h -> h.destinationTag = -4);
        assertRejected(WireDropReason.BAD_CONNECTION, h -> h.sourceConnection = 0);
        assertRejected(WireDropReason.BAD_LENGTHS, h -> h.messageLength = -1);
        assertRejected(WireDropReason.BAD_LENGTHS, h -> h.fragmentOffset = -1);
        assertRejected(WireDropReason.BAD_LENGTHS, h -> h.fragmentLength = -1);
        assertRejected(WireDropReason.BAD_LENGTHS, h -> h.fragmentOffset = 5001);
        assertRejected(WireDropReason.BAD_LENGTHS, h -> h.fragmentOffset = 3801);
        assertRejected(WireDropReason.BAD_LENGTHS, h -> {
            h.messageLength = Integer.MAX_VALUE;
            h.fragmentOffset = Integer.MAX_VALUE - 10;
            h.fragmentLength = 20; // offset + length overflows an int
        });
        assertThat(decode(encoded(header()), WireFrame.HEADER_LENGTH + 1199)).isEqualTo(WireDropReason.LENGTH_MISMATCH);
        assertThat(decode(encoded(header()), WireFrame.HEADER_LENGTH + 1201)).isEqualTo(WireDropReason.LENGTH_MISMATCH);
        ByteBuffer reserved = encoded(header());
        reserved.putInt(WireFrame.RESERVED_OFFSET, 1);
        reserved.putInt(WireFrame.CHECKSUM_OFFSET, WireFrame.checksum(reserved, crc));
        assertThat(decode(reserved, WireFrame.HEADER_LENGTH + 1200)).as("the reserved word must be 0").isEqualTo(WireDropReason.BAD_FLAGS);
        ByteBuffer version = encoded(header());
        version.put(WireFrame.VERSION_OFFSET, (byte) (WireFrame.VERSION + 1));
        version.putInt(WireFrame.CHECKSUM_OFFSET, WireFrame.checksum(version, crc));
        assertThat(decode(version, WireFrame.HEADER_LENGTH + 1200)).isEqualTo(WireDropReason.BAD_VERSION);
    }

    @Test
    void aFrameForAChannelWhoseConnectionIdTheSenderDoesNotKnowIsValid() {
        FrameHeader h = header();
        h.destinationConnection = 0; // sent to a well-known address such as an echo's /1
        FrameHeader received = new FrameHeader();
        assertThat(WireFrame.decode(encoded(h), WireFrame.HEADER_LENGTH + 1200, received, crc)).isNull();
        assertThat(received.destinationConnection).isZero();
    }

    @Test
    void controlTypesAndEmptyFragmentsAreValidFrames() {
        for (int type = FrameHeader.TYPE_DATA; type <= FrameHeader.TYPE_CLOSE; type++) {
            FrameHeader h = header();
            h.type = type;
            h.fragmentOffset = 0;
            h.messageLength = 0;
            h.fragmentLength = 0;
            assertThat(decode(encoded(h), WireFrame.HEADER_LENGTH)).as("type " + type).isNull();
        }
    }

    /** Two frames back to back, the first marked followed: [72 + 100][72 + 50]. */
    private ByteBuffer coalesced(int firstLength, int secondLength) {
        ByteBuffer datagram = ByteBuffer.allocate(2 * WireFrame.HEADER_LENGTH + firstLength + secondLength)
                .order(ByteOrder.LITTLE_ENDIAN);
        FrameHeader h = header();
        h.fragmentOffset = 0;
        h.messageLength = firstLength;
        h.fragmentLength = firstLength;
        WireFrame.encode(h, datagram, 0, crc);
        WireFrame.markFollowed(datagram, 0, crc);
        h.messageId++;
        h.messageLength = secondLength;
        h.fragmentLength = secondLength;
        WireFrame.encode(h, datagram, WireFrame.HEADER_LENGTH + firstLength, crc);
        return datagram;
    }

    @Test
    void eachFrameOfACoalescedDatagramDecodesOnItsOwnAndSaysWhetherOneFollows() {
        ByteBuffer datagram = coalesced(100, 50);
        FrameHeader first = new FrameHeader();
        assertThat(WireFrame.decode(datagram, 0, datagram.capacity(), first, crc)).isNull();
        assertThat(WireFrame.isFollowed(first)).isTrue();
        assertThat(first.fragmentLength).isEqualTo(100);
        int second = WireFrame.HEADER_LENGTH + 100;
        FrameHeader next = new FrameHeader();
        assertThat(WireFrame.decode(datagram, second, datagram.capacity() - second, next, crc)).isNull();
        assertThat(WireFrame.isFollowed(next)).isFalse();
        assertThat(next.messageId).isEqualTo(first.messageId + 1);
        assertThat(WireFrame.decode(datagram, datagram.capacity(), new FrameHeader(), crc))
                .as("a lone-frame decode of a coalesced datagram").isEqualTo(WireDropReason.LENGTH_MISMATCH);
    }

    @Test
    void aCoalescedFrameCannotClaimPastItsDatagramNorLeaveBytesNoHeaderNames() {
        ByteBuffer datagram = coalesced(100, 50);
        FrameHeader into = new FrameHeader();
        // the first frame says more follows, but the datagram ends (or leaves less than a header) after its payload
        assertThat(WireFrame.decode(datagram, 0, WireFrame.HEADER_LENGTH + 100, into, crc)).isEqualTo(WireDropReason.LENGTH_MISMATCH);
        assertThat(WireFrame.decode(datagram, 0, 2 * WireFrame.HEADER_LENGTH + 99, into, crc)).isEqualTo(WireDropReason.LENGTH_MISMATCH);
        // the last frame claims one byte more than the datagram holds, or leaves one unnamed
        int second = WireFrame.HEADER_LENGTH + 100;
        assertThat(WireFrame.decode(datagram, second, WireFrame.HEADER_LENGTH + 49, into, crc)).isEqualTo(WireDropReason.LENGTH_MISMATCH);
        assertThat(WireFrame.decode(datagram, second, WireFrame.HEADER_LENGTH + 51, into, crc)).isEqualTo(WireDropReason.LENGTH_MISMATCH);
        // the flag is covered by the header checksum: set without it, the frame is corrupt
        datagram.putShort(second + WireFrame.FLAGS_OFFSET, (short) WireFrame.FLAG_MORE);
        assertThat(WireFrame.decode(datagram, second, datagram.capacity() - second, into, crc)).isEqualTo(WireDropReason.BAD_CHECKSUM);
    }

    private void assertRejected(WireDropReason reason, Consumer<FrameHeader> change) {
        FrameHeader h = header();
        change.accept(h);
        assertThat(decode(encoded(h), WireFrame.HEADER_LENGTH + 1200)).as(h.toString()).isEqualTo(reason);
    }
}
