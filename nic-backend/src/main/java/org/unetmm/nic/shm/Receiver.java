package org.unetmm.nic.shm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLongArray;
import org.unetmm.internal.BufferPayload;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Inbound;
import org.unetmm.spi.Placement;
import org.unetmm.spi.TransmitListener;

/**
 * The shm wire's receive side, for every peer of one {@link ShmTransport}: takes the records the
 * peer wrote into its ring, checks each ({@link FrameRing}, {@link ShmFrame}) before a byte reaches
 * user memory, hands inline payloads and segment frames' bytes in the peer's shared segment
 * ({@link ShmSegment}) to the NIC ({@link Inbound#onFragment}) and reads rendezvous
 * payloads with {@code process_vm_readv(2)} straight into the placement the NIC claimed, then posts
 * the completion the peer waits for. It also takes the peer's completions of this side's own
 * rendezvous and releases their tokens ({@link TransmitListener#released}), and fails the tokens of a
 * peer that is gone. What fails a check is counted by {@link ShmDropReason} and written nowhere.
 *
 * <pre>
 *  the iovec block (one allocation, little-endian struct iovec {void *base; size_t len})
 *      0  local iovec       [placement.address, wanted]
 *     16  remote iovec[N]   the peer's pieces, N &lt;= ShmFrame.MAX_PIECES
 * </pre>
 *
 * Threading: the NIC thread that drives the wire; counters single-writer, read anywhere.
 */
final class Receiver {
    static final int RECORDS_PER_POLL = 64;
    private static final int ESRCH = 3;
    private static final int LOCAL_IOV_OFFSET = 0;
    private static final int REMOTE_IOV_OFFSET = 16;
    private static final int IOV_BLOCK_LENGTH = REMOTE_IOV_OFFSET + ShmFrame.MAX_PIECES * 16;

    private Inbound inbound;
    private TransmitListener transmitted;
    // scratch
    private final FrameHeader frame = new FrameHeader();
    private final Placement placement = new Placement();
    private final long[] remoteAddresses = new long[ShmFrame.MAX_PIECES];
    private final long[] remoteLengths = new long[ShmFrame.MAX_PIECES];
    private final ShmDropReason[] why = new ShmDropReason[1];
    private final long[] completion = new long[2];
    private final NativeBuffer iovs;
    private final ByteBuffer iov;
    // counters (single writer)
    volatile long rendezvousCompleted;
    volatile long rendezvousFailed;
    volatile long inlineReceived;
    volatile long rendezvousRead;
    volatile long bytesRead;
    volatile long segmentReceived;
    volatile long segmentCompleted;
    volatile long segmentFailed;
    private final AtomicLongArray drops = new AtomicLongArray(ShmDropReason.values().length);

    Receiver() {
        this.iovs = NativeMemory.allocate(IOV_BLOCK_LENGTH);
        this.iov = iovs.buffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    void start(Inbound inbound, TransmitListener transmitted) {
        this.inbound = inbound;
        this.transmitted = transmitted;
    }

    /** Tells the NIC the peer is gone for good: its reliable channels to it fail now ({@link Inbound#peerLost}). */
    void peerLost(ShmPeer peer, String why) {
        if (inbound != null) {
            inbound.peerLost("shm:" + peer.name, why); // the address it named itself by (ShmConfig.address)
        }
    }

    /** Whether a NIC is there to release tokens to (the transport started). */
    boolean started() {
        return transmitted != null;
    }

    /** Takes the peer's completions of this side's rendezvous and releases their tokens: the sends complete. */
    int drainCompletions(ShmPeer peer) {
        int done = 0;
        while (peer.region.in.nextCompletion(completion)) {
            long token = peer.take(completion[0]);
            if (token < 0) {
                count(ShmDropReason.UNKNOWN_COMPLETION);
                continue;
            }
            int status = (int) completion[1];
            done++;
            if (status == 0) {
                countReleased(peer, true);
                transmitted.released(token, null);
            } else {
                countReleased(peer, false);
                transmitted.released(token, "the peer shm:" + peer.name + " could not read the fragment: " + Errno.name(status)
                        + " (its process_vm_readv failed, or it refused the frame)");
            }
        }
        return done;
    }

    /**
     * Takes up to {@value #RECORDS_PER_POLL} records from the peer's ring, and up to {@code messages}
     * that end a message: inline ones copied out, rendezvous read. What is left stays in the ring for
     * the next round, so what the round's completions send leaves while the peer has work.
     */
    int readRecords(ShmPeer peer, int messages) {
        peer.payOwed();
        FrameRing in = peer.region.in;
        ByteBuffer m = in.memory();
        int done = 0;
        while (done < RECORDS_PER_POLL) {
            int at = in.next();
            if (at == FrameRing.EMPTY) {
                break;
            }
            if (at == FrameRing.CORRUPT) {
                count(in.corruption());
                continue;
            }
            int length = in.length(); // checked against the ring; not read again from memory a peer may rewrite
            int kind = in.kind();
            ShmDropReason bad = ShmFrame.decode(m, at, kind, length, frame);
            if (bad != null) {
                count(bad);
                in.consumeQuietly();
                continue;
            }
            frame.source.copyFrom(peer.sourceKey);
            if (kind == FrameRing.KIND_INLINE) {
                Inbound nic = inbound;
                if (nic == null || !nic.onFragment(frame, peer.inline.window(at + ShmFrame.HEADER_LENGTH,
                        frame.fragmentLength))) {
                    break; // the NIC is busy: the record stays at the head for the next round
                }
                inlineReceived++;
            } else if (kind == FrameRing.KIND_SEGMENT) {
                if (!peer.oweRoom() || !fromSegment(peer, m, at)) {
                    break; // the peer is not taking completions, or the NIC is busy: the record stays for the next round
                }
            } else {
                if (!peer.oweRoom()) {
                    break; // the peer is not taking completions: take no more rendezvous until it does
                }
                read(peer, m, at, length);
            }
            in.consumeQuietly();
            done++;
            if (frame.fragmentOffset + frame.fragmentLength == frame.messageLength && --messages <= 0) {
                break; // the messages of this poll are taken: the rest wait for the next
            }
        }
        in.publishHead(); // the room of the whole batch at once
        return done;
    }

    /** A rendezvous: claim the placement, read the peer's pieces straight into it, tell the peer. */
    private void read(ShmPeer peer, ByteBuffer m, int at, int length) {
        long seq = m.getLong(at + ShmFrame.SEQ_OFFSET);
        int status = 0;
        Inbound nic = inbound;
        if (nic != null && nic.claim(frame, placement)) {
            int wanted = placement.length;
            int pieces = wanted < 0 || wanted > frame.fragmentLength ? -1
                    : ShmFrame.pieces(m, at, length, frame.fragmentLength, peer.pid(), wanted, remoteAddresses, remoteLengths, why);
            if (pieces < 0) {
                ShmDropReason reason = wanted < 0 || wanted > frame.fragmentLength ? ShmDropReason.BAD_LENGTHS : why[0];
                nic.abort(frame, "rendezvous dropped: " + reason);
                count(reason);
                status = Errno.EFAULT;
            } else if (wanted == 0) {
                nic.commit(frame);
            } else {
                status = readv(peer.pid(), placement.address, wanted, pieces);
                if (status == 0) {
                    nic.commit(frame);
                    rendezvousRead++;
                    bytesRead += wanted;
                } else {
                    nic.abort(frame, "process_vm_readv from pid " + peer.pid() + " failed: " + Errno.name(status));
                }
            }
        }
        if (!peer.region.out.complete(seq, status)) {
            peer.owe(seq, status); // room was checked before the record was taken
        }
    }

    /**
     * A segment frame: the peer's NIC copied the fragment into its fixed segment, shared with this
     * process; the NIC copies it out into the posted buffer (base U-Net's second copy), then the
     * peer is told, so its segment space is reused only after that. The segment and the (offset,
     * length) are checked first: a frame naming a segment the peer did not share, or bytes outside
     * it, is dropped and counted and its completion carries EFAULT. False when the NIC is busy
     * (nothing done, the record stays).
     */
    private boolean fromSegment(ShmPeer peer, ByteBuffer m, int at) {
        long seq = m.getLong(at + ShmFrame.SEQ_OFFSET);
        BufferPayload segment = peer.segment(m.getInt(at + ShmFrame.SEGMENT_NUMBER_OFFSET), why);
        long offset = m.getLong(at + ShmFrame.SEGMENT_PAYLOAD_OFFSET);
        int status = 0;
        if (segment == null) {
            count(why[0]);
            status = Errno.EFAULT;
        } else if (offset < 0 || offset > segment.capacity() - (long) frame.fragmentLength) {
            count(ShmDropReason.OUTSIDE_SEGMENT);
            status = Errno.EFAULT;
        } else {
            Inbound nic = inbound;
            if (nic == null || !nic.onFragment(frame, segment.window((int) offset, frame.fragmentLength))) {
                return false;
            }
            segmentReceived++;
        }
        if (!peer.region.out.complete(seq, status)) {
            peer.owe(seq, status); // room was checked before the record was taken
        }
        return true;
    }

    /** Reads {@code wanted} bytes from the peer's pieces into [address, address+wanted); 0 or the errno. */
    private int readv(int peerPid, long address, int wanted, int pieces) {
        iov.putLong(LOCAL_IOV_OFFSET, address);
        iov.putLong(LOCAL_IOV_OFFSET + 8, wanted);
        for (int i = 0, p = REMOTE_IOV_OFFSET; i < pieces; i++, p += 16) {
            iov.putLong(p, remoteAddresses[i]);
            iov.putLong(p + 8, remoteLengths[i]);
        }
        long read = Libc.processVmReadv(peerPid, iovs.address() + LOCAL_IOV_OFFSET, 1, iovs.address() + REMOTE_IOV_OFFSET, pieces);
        if (read == wanted) {
            return 0;
        }
        int errno = read >= 0 ? Errno.EFAULT : (int) -read;
        count(switch (errno) {
            case Errno.EFAULT -> ShmDropReason.READ_FAULT;
            case ESRCH -> ShmDropReason.READ_NO_PROCESS;
            case Errno.EPERM -> ShmDropReason.READ_PERMISSION;
            default -> ShmDropReason.READ_OTHER;
        });
        return errno;
    }

    /** Fails a fragment the wire took but cannot send (its peer is gone). */
    void fail(long token, String failure) {
        transmitted.released(token, failure);
    }

    /** Fails every token the peer still holds (it is gone, or the endpoint closes). */
    void failHeld(ShmPeer peer, String failure) {
        for (long token; (token = peer.takeAny()) >= 0; ) {
            countReleased(peer, false);
            transmitted.released(token, failure);
        }
    }

    /** Counts the token {@link ShmPeer#take} just gave back, by its frame's kind. */
    private void countReleased(ShmPeer peer, boolean ok) {
        if (peer.tookSegmentFrame) {
            if (ok) {
                segmentCompleted++;
            } else {
                segmentFailed++;
            }
        } else if (ok) {
            rendezvousCompleted++;
        } else {
            rendezvousFailed++;
        }
    }

    void count(ShmDropReason reason) {
        drops.incrementAndGet(reason.ordinal());
    }

    /** The drop counters by {@link ShmDropReason} ordinal, a fresh copy. */
    long[] drops() {
        long[] d = new long[drops.length()];
        for (int i = 0; i < d.length; i++) {
            d[i] = drops.get(i);
        }
        return d;
    }

    void close() {
        iovs.close();
    }
}
