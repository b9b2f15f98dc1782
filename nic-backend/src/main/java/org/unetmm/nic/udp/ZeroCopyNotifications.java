package org.unetmm.nic.udp;

import static org.unetmm.nic.udp.SocketStructs.CMSG_DATA;
import static org.unetmm.nic.udp.SocketStructs.CMSG_LEN;
import static org.unetmm.nic.udp.SocketStructs.CMSG_LEVEL;
import static org.unetmm.nic.udp.SocketStructs.CMSG_TYPE;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.unetmm.internal.Counters;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.spi.TransmitListener;

/**
 * The {@code MSG_ZEROCOPY} side of the udp wire's sends ({@code udp://…?zerocopy=BYTES}): which
 * fragments the kernel may still be reading, and the error-queue notices that say it no longer is.
 *
 * <p><b>The kernel's rule</b> ({@code Documentation/networking/msg_zerocopy.rst}). A send flagged
 * {@code MSG_ZEROCOPY} on a socket with {@code SO_ZEROCOPY} keeps references to the user pages
 * instead of copying them; the send returns at once, and the pages may be read until the last skb
 * holding them is freed. Each such send that succeeds takes the socket's next 32-bit counter, from 0;
 * for {@code sendmmsg(2)} each message is a send of its own and takes one (the flag is the call's, not
 * the message's: {@code msg_flags} is ignored on send). The kernel later queues a notice on the error
 * queue, read with {@code recvmsg(MSG_ERRQUEUE)}: an {@code IP_RECVERR} cmsg whose
 * {@code sock_extended_err} (drawn in {@link SocketStructs}) has origin {@code SO_EE_ORIGIN_ZEROCOPY} and
 * names the inclusive range {@code [ee_info, ee_data]} of the counters done with, consecutive notices
 * merged into one; {@code ee_code & SO_EE_CODE_ZEROCOPY_COPIED} says the kernel copied after all
 * (always on loopback and veth: a device that delivers locally copies the pages before handing the skb
 * on). Notices may come out of order. A send the kernel refuses before it builds the skb takes no
 * counter ({@code msg_zerocopy_put_abort} gives it back); one it refuses after (a firewall's drop,
 * {@code UDP_SEGMENT} checks: {@code udp_send_skb}) frees the skb before the call returns, and the
 * notice naming its counter is then already queued: {@link #lost} reads the queue at once, and any
 * notice beyond the counters handed out moves the next counter past it, so the count never drifts.
 *
 * <p><b>What is kept true.</b> A fragment sent zero-copy stays the NIC's (its token unreleased, its
 * pages pinned and translated) until a notice covers the send it left in; so does its 72-byte wire
 * header, which the kernel reads from the same send and which therefore lives here, in a ring slot
 * per fragment, not in the batch that is rewritten each round. Slots are claimed when the batch
 * queues a fragment ({@link #claim}), bound to a send when {@code sendmmsg} takes its datagram
 * ({@link #sent}), and reused only once the kernel's notice for that send arrived, even when the
 * fragment's token was already released as failed ({@link #failAll}), so a late-freed skb never
 * carries a rewritten header. When the ring is full the batch sends without the flag (its copy, its
 * completion at {@code sendmmsg}, as below the threshold).
 *
 * <pre>
 *  the block (one page-aligned allocation)
 *        0  header[4096]   72-byte wire headers of the fragments claimed, by slot
 *   294912  msghdr         the error-queue receive: no name, no iovecs
 *   294976  control (64)   its IP_RECVERR cmsg
 *   295040  pollfd (8)     this socket, for the bounded wait of {@link #await}
 *   295048  timespec (16)
 *   295064  end
 * </pre>
 *
 * Engine thread only, as {@link SendBatch}; the counters may be read from any thread.
 */
final class ZeroCopyNotifications {
    /** Fragment slots (a power of two) and sends (likewise) that may wait for the kernel at once. */
    static final int SLOTS = 4096;
    static final int SENDS = 1024;
    private static final int SLOT_MASK = SLOTS - 1;
    private static final int SEND_MASK = SENDS - 1;
    private static final int HEADER_OFFSET = 0;
    private static final int MSGHDR_OFFSET = HEADER_OFFSET + SLOTS * WireFrame.HEADER_LENGTH;
    private static final int CONTROL_OFFSET = MSGHDR_OFFSET + 64;
    private static final int POLLFD_OFFSET = CONTROL_OFFSET + SocketStructs.ERRQUEUE_CONTROL_LENGTH;
    private static final int TIMESPEC_OFFSET = POLLFD_OFFSET + 8;
    private static final int LENGTH = TIMESPEC_OFFSET + 16;
    private static final int POLLERR = 0x8;
    private static final long WAIT_SLICE_NANOS = 10_000_000;

    private final int fd;
    private final NativeBuffer native_;
    private final ByteBuffer memory;
    private final long base;
    private TransmitListener listener;
    /** Per slot: the NIC's token of the fragment whose header it holds. */
    private final long[] tokens = new long[SLOTS];
    /** Slots [slotTail, slotBound) belong to sends, [slotBound, slotHead) to fragments queued, not yet sent. */
    private int slotTail;
    private int slotBound;
    private int slotHead;
    /** Per send: its counter, first slot, slot count, whether its tokens went back, whether the kernel is done. */
    private final int[] counter = new int[SENDS];
    private final int[] firstSlot = new int[SENDS];
    private final int[] slotCount = new int[SENDS];
    private final boolean[] released = new boolean[SENDS];
    private final boolean[] notified = new boolean[SENDS];
    /** Sends [sendTail, sendHead) wait for the kernel or for reuse; unreleased ones keep their fragments. */
    private int sendTail;
    private int sendHead;
    /** The counter the kernel gives the next zero-copy send. */
    private int nextCounter;
    private int unreleased;

    static final int SENDS_ZEROCOPY = 0;
    static final int NOTIFICATIONS = 1;
    static final int NOTIFIED_SENDS = 2;
    static final int COPIED_SENDS = 3;
    static final int FALLBACKS = 4;
    private final Counters counters = new Counters(5);

    ZeroCopyNotifications(int fd) {
        this.fd = fd;
        this.native_ = NativeMemory.allocate(LENGTH);
        this.memory = native_.buffer().order(ByteOrder.LITTLE_ENDIAN);
        this.base = native_.address();
        SocketStructs.msghdr(memory, MSGHDR_OFFSET, 0, 0, 0, 0);
        memory.putInt(POLLFD_OFFSET, fd);
        memory.putShort(POLLFD_OFFSET + 4, (short) POLLERR);
    }

    void start(TransmitListener transmitted) {
        this.listener = transmitted;
    }

    /** Where claimed headers live: write slot {@code s}'s at {@code headerAt(s)}. */
    ByteBuffer memory() {
        return memory;
    }

    long address() {
        return base;
    }

    static int headerAt(int slot) {
        return HEADER_OFFSET + (slot & SLOT_MASK) * WireFrame.HEADER_LENGTH;
    }

    /**
     * Whether one more fragment may be sent zero-copy: it {@code fits} one skb's frags, there is a free
     * slot, and room for a send record for every datagram a batch can hold. False counts a fallback (the
     * fragment leaves by the ordinary path).
     */
    boolean canClaim(boolean fits) {
        if (fits && slotHead - slotTail < SLOTS && sendHead - sendTail + SendBatch.DATAGRAMS <= SENDS) {
            return true;
        }
        counters.increment(FALLBACKS);
        return false;
    }

    /** Takes ownership of the retained fragment {@code token}; returns its slot (its header goes at {@link #headerAt}). */
    int claim(long token) {
        int slot = slotHead++;
        tokens[slot & SLOT_MASK] = token;
        return slot;
    }

    /** The oldest {@code fragments} claimed and unsent left in one successful zero-copy send. */
    void sent(int fragments) {
        int s = record(fragments);
        counter[s] = nextCounter++;
        counters.increment(SENDS_ZEROCOPY);
        unreleased++;
    }

    /**
     * The oldest {@code fragments} claimed and unsent were in a send the kernel refused for good: lost,
     * as UDP loses, so their sends complete; the kernel holds nothing of them. Reads the error queue at
     * once, in case the refusal came after the kernel had taken a counter (see the class comment).
     */
    void lost(int fragments) {
        int s = record(fragments);
        counter[s] = nextCounter;
        release(s, null);
        notified[s] = true;
        drain();
    }

    private int record(int fragments) {
        int s = sendHead++ & SEND_MASK;
        firstSlot[s] = slotBound;
        slotCount[s] = fragments;
        released[s] = false;
        notified[s] = false;
        slotBound += fragments;
        return s;
    }

    /** Fragments claimed but never sent (the batch failed them): their tokens go back failed, their slots free. */
    void abandonQueued(String why) {
        for (int slot = slotBound; slot != slotHead; slot++) {
            listener.released(tokens[slot & SLOT_MASK], why);
        }
        slotHead = slotBound;
    }

    /** Zero-copy sends whose fragments are still the kernel's to read. */
    int outstanding() {
        return unreleased;
    }

    /**
     * Reads every notice queued on the error queue and releases the fragments of the sends they cover;
     * returns how many sends completed.
     */
    int drain() {
        int completed = 0;
        while (true) {
            memory.putLong(MSGHDR_OFFSET + SocketStructs.MSG_CONTROL, base + CONTROL_OFFSET);
            memory.putLong(MSGHDR_OFFSET + SocketStructs.MSG_CONTROLLEN, SocketStructs.ERRQUEUE_CONTROL_LENGTH);
            memory.putInt(MSGHDR_OFFSET + SocketStructs.MSG_FLAGS, 0);
            long n = Libc.recvmsg(fd, base + MSGHDR_OFFSET, SocketStructs.MSG_ERRQUEUE | Libc.MSG_DONTWAIT);
            if (n == -Errno.EINTR) {
                continue;
            }
            if (n < 0) {
                return completed; // EAGAIN: the queue is empty
            }
            long controlLength = memory.getLong(MSGHDR_OFFSET + SocketStructs.MSG_CONTROLLEN);
            if (controlLength < CMSG_DATA + 16 || memory.getInt(CONTROL_OFFSET + CMSG_LEVEL) != SocketStructs.SOL_IP
                    || memory.getInt(CONTROL_OFFSET + CMSG_TYPE) != SocketStructs.IP_RECVERR
                    || memory.getLong(CONTROL_OFFSET + CMSG_LEN) < CMSG_DATA + 16) {
                continue; // not a notice of ours (the wire asks for no other error reports)
            }
            int ee = CONTROL_OFFSET + CMSG_DATA;
            if (memory.getInt(ee + SocketStructs.EE_ERRNO) != 0
                    || memory.get(ee + SocketStructs.EE_ORIGIN) != SocketStructs.SO_EE_ORIGIN_ZEROCOPY) {
                continue;
            }
            completed += notice(memory.getInt(ee + SocketStructs.EE_INFO), memory.getInt(ee + SocketStructs.EE_DATA),
                    (memory.get(ee + SocketStructs.EE_CODE) & SocketStructs.SO_EE_CODE_ZEROCOPY_COPIED) != 0);
        }
    }

    /** The kernel is done with sends {@code [lo, hi]} (32-bit counters, inclusive, wrapping). */
    private int notice(int lo, int hi, boolean copied) {
        long span = (hi - lo & 0xFFFF_FFFFL) + 1;
        counters.increment(NOTIFICATIONS);
        counters.add(NOTIFIED_SENDS, span);
        if (copied) {
            counters.add(COPIED_SENDS, span);
        }
        int completed = 0;
        for (int p = sendTail; p != sendHead; p++) {
            int s = p & SEND_MASK;
            if (notified[s]) {
                continue;
            }
            if ((counter[s] - lo & 0xFFFF_FFFFL) < span) {
                notified[s] = true;
                if (!released[s]) {
                    release(s, null);
                    unreleased--;
                    completed++;
                }
            } else if (counter[s] - hi > 0) {
                break; // counters rise with the sends: the rest are later
            }
        }
        if (hi - nextCounter >= 0) {
            nextCounter = hi + 1; // a counter the kernel took for a send it then refused (see the class comment)
        }
        while (sendTail != sendHead && notified[sendTail & SEND_MASK]) {
            slotTail += slotCount[sendTail & SEND_MASK];
            sendTail++;
        }
        return completed;
    }

    private void release(int s, String failure) {
        released[s] = true;
        for (int i = 0; i < slotCount[s]; i++) {
            listener.released(tokens[firstSlot[s] + i & SLOT_MASK], failure);
        }
    }

    /** Waits, at most {@code nanos}, for the notices of every outstanding send, reading them as they come. */
    void await(long nanos) {
        long deadline = System.nanoTime() + nanos;
        drain();
        for (long left; unreleased > 0 && (left = deadline - System.nanoTime()) > 0; ) {
            long slice = Math.min(left, WAIT_SLICE_NANOS);
            memory.putLong(TIMESPEC_OFFSET, 0);
            memory.putLong(TIMESPEC_OFFSET + 8, slice);
            Libc.ppoll(base + POLLFD_OFFSET, 1, base + TIMESPEC_OFFSET);
            drain();
        }
    }

    /**
     * Releases, as failed, every fragment the kernel has not yet said it is done with, so nothing stays
     * pinned (the kernel keeps its own page references; only the bytes it sends late may have changed).
     * Their slots stay taken until the notices come, or the wire closes.
     */
    void failAll(String why) {
        abandonQueued(why);
        for (int p = sendTail; p != sendHead; p++) {
            int s = p & SEND_MASK;
            if (!released[s]) {
                release(s, why);
                unreleased--;
            }
        }
    }

    void close() {
        native_.close();
    }

    long count(int slot) {
        return counters.get(slot);
    }
}
