package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.TransmitListener;

/**
 * The send batch and its zero-copy notifications on a real socket with {@code SO_ZEROCOPY}, toward a
 * real udp wire on loopback, driven one step at a time so the order is seen: a fragment sent with
 * {@code MSG_ZEROCOPY} is not released when {@code sendmmsg} takes it, only when its error-queue
 * notice is read; on this kernel each message of one {@code sendmmsg} takes a counter of its own;
 * MSG_ZEROCOPY being the call's flag, a batch mixing kinds leaves in one call per run.
 */
@Timeout(30)
class ZeroCopyNotificationsTest {
    private static final int FRAGMENT = 30_000;
    private final List<String> released = new ArrayList<>();
    private final TransmitListener listener = (token, failure) -> released.add(token + (failure == null ? "" : " " + failure));
    private UdpTransport peer;
    private int fd;
    private ZeroCopyNotifications notifications;
    private SendBatch batch;
    private ByteBuffer pages;

    @BeforeEach
    void open() {
        peer = new UdpTransport(UdpConfig.parse("udp://127.0.0.1:0")); // the receiving socket: never read
        fd = Libc.udpSocket();
        Libc.setsockopt(fd, Libc.SOL_SOCKET, SocketStructs.SO_ZEROCOPY, 1);
        notifications = new ZeroCopyNotifications(fd);
        notifications.start(listener);
        batch = new SendBatch(fd, WireFrame.MAX_DATAGRAM, UdpConfig.DEFAULT_SEND_COPY, false, notifications, 1024);
        batch.start(listener);
        pages = ByteBuffer.allocateDirect(16 * FRAGMENT);
    }

    @AfterEach
    void close() {
        batch.close();
        notifications.close();
        Libc.close(fd);
        peer.close();
    }

    @Test
    void aZeroCopySendIsReleasedOnlyWhenItsErrorQueueNoticeIsRead() {
        batch.add(peer.boundAddress().sockaddrWord(), header(1, 0, FRAGMENT), new Pages(pages, 0, FRAGMENT, 42));
        assertThat(batch.send()).isTrue();
        assertThat(batch.count(SendBatch.DATAGRAMS_SENT)).as("the kernel took the datagram").isEqualTo(1);
        assertThat(released).as("sendmmsg returned: the kernel may still read the pages").isEmpty();
        assertThat(notifications.outstanding()).isEqualTo(1);
        assertThat(notifications.count(ZeroCopyNotifications.NOTIFICATIONS)).isZero();
        notifications.await(5_000_000_000L);
        assertThat(notifications.count(ZeroCopyNotifications.NOTIFICATIONS)).as("the notice was read").isEqualTo(1);
        assertThat(released).as("released once, as sent, after the notice").containsExactly("42");
        assertThat(notifications.outstanding()).isZero();
        assertThat(notifications.count(ZeroCopyNotifications.COPIED_SENDS))
                .as("loopback delivers locally, so the kernel copied").isEqualTo(1);
    }

    @Test
    void eachMessageOfOneSendmmsgTakesACounterOfItsOwn() {
        int messages = 10;
        for (int i = 0; i < messages; i++) { // fragments of one message: each its own datagram (no coalescing, no GSO)
            batch.add(peer.boundAddress().sockaddrWord(), header(7, i, FRAGMENT), new Pages(pages, i * FRAGMENT, FRAGMENT, 100 + i));
        }
        assertThat(batch.send()).isTrue();
        assertThat(batch.count(SendBatch.SEND_CALLS)).as("one sendmmsg").isEqualTo(1);
        assertThat(notifications.count(ZeroCopyNotifications.SENDS_ZEROCOPY)).isEqualTo(messages);
        notifications.await(5_000_000_000L);
        assertThat(notifications.count(ZeroCopyNotifications.NOTIFIED_SENDS))
                .as("the notices cover one counter per message, not per call").isEqualTo(messages);
        assertThat(notifications.outstanding()).isZero();
        assertThat(released).containsExactlyInAnyOrder("100", "101", "102", "103", "104", "105", "106", "107", "108", "109");
    }

    @Test
    void aBatchMixingZeroCopyAndCopiedDatagramsLeavesInOneCallPerRun() {
        long to = peer.boundAddress().sockaddrWord();
        batch.add(to, header(3, 0, FRAGMENT), new Pages(pages, 0, FRAGMENT, 1)); // zero-copy
        batch.add(to, header(3, 1, 800), new Pages(pages, FRAGMENT, 800, 2)); // under the 1024-byte threshold
        batch.add(to, header(3, 2, 900), new Pages(pages, 2 * FRAGMENT, 900, 3));
        batch.add(to, header(3, 3, FRAGMENT), new Pages(pages, 3 * FRAGMENT, FRAGMENT, 4)); // zero-copy
        assertThat(batch.send()).isTrue();
        assertThat(batch.count(SendBatch.SEND_CALLS)).as("runs: zc, plain, zc").isEqualTo(3);
        assertThat(batch.count(SendBatch.DATAGRAMS_SENT)).isEqualTo(4);
        assertThat(released).as("the plain ones complete when sendmmsg took them").containsExactly("2", "3");
        notifications.await(5_000_000_000L);
        assertThat(released).containsExactly("2", "3", "1", "4");
        assertThat(notifications.count(ZeroCopyNotifications.NOTIFIED_SENDS)).isEqualTo(2);
    }

    @Test
    void failingOutstandingSendsReleasesEveryFragmentOnce() {
        batch.add(peer.boundAddress().sockaddrWord(), header(5, 0, FRAGMENT), new Pages(pages, 0, FRAGMENT, 9));
        assertThat(batch.send()).isTrue();
        batch.add(peer.boundAddress().sockaddrWord(), header(5, 1, FRAGMENT), new Pages(pages, FRAGMENT, FRAGMENT, 10));
        batch.fail("queued, never sent");
        notifications.failAll("gave up");
        assertThat(released).containsExactly("10 queued, never sent", "9 gave up");
        assertThat(notifications.outstanding()).isZero();
        notifications.await(1_000_000_000L);
        notifications.drain();
        assertThat(released).as("the late notice releases nothing twice").hasSize(2);
    }

    private static FrameHeader header(long messageId, int fragment, int length) {
        FrameHeader h = new FrameHeader();
        h.type = FrameHeader.TYPE_DATA;
        h.sourceTag = 1;
        h.destinationTag = 2;
        h.messageId = messageId;
        h.fragmentOffset = fragment * FRAGMENT;
        h.messageLength = 16 * FRAGMENT;
        h.fragmentLength = length;
        return h;
    }

    /** A fragment in native memory that the wire may keep: gathers as one piece, retains with {@code token}. */
    private static final class Pages implements PayloadSource {
        private final long address;
        private final int length;
        private final long token;

        Pages(ByteBuffer pages, int offset, int length, long token) {
            this.address = NativeMemory.address(pages) + offset;
            this.length = length;
            this.token = token;
        }

        @Override
        public void copyTo(int offset, ByteBuffer destination, int destinationIndex, int length) {
            NativeMemory.copyFromAddress(address + offset, destination, destinationIndex, length);
        }

        @Override
        public int gather(long[] addresses, int[] lengths, int max) {
            addresses[0] = address;
            lengths[0] = length;
            return 1;
        }

        @Override
        public long retain() {
            return token;
        }
    }
}
