package org.unetmm.spi;

import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;

/**
 * A wire behind the NIC (SPI, implemented in nic-backend): loopback in one JVM, udp across
 * processes and hosts, shm across processes of a host. The NIC drives it from its progress loop;
 * a transport is used by one NIC thread at a time.
 */
public interface Transport extends AutoCloseable {
    /** {@return this end's address, as peers name it in channel addresses (e.g. {@code loopback:nic-1})} */
    String address();

    /** {@return the largest fragment payload the wire carries, in bytes; the NIC cuts larger messages} */
    int mtu();

    /**
     * Connects the NIC's receive side, and where the wire reports fragments it
     * {@linkplain PayloadSource#retain() retained}; called once before any traffic.
     *
     * @param inbound     where arriving fragments go
     * @param transmitted told when a retained fragment is done with
     */
    void start(Inbound inbound, TransmitListener transmitted);

    /**
     * Resolves a peer's transport address once, when a channel connects, so the data path does
     * not parse addresses. Throws {@link IllegalArgumentException} naming what was wrong.
     *
     * @param remoteAddress the peer's transport address, as its {@link #address()} wrote it
     * @return the resolved peer
     */
    Route route(String remoteAddress);

    /**
     * Memory for the fixed segment of an endpoint this NIC opens: {@code bytes} long, page-aligned,
     * zero-filled. The NIC pins it for the endpoint's life and closes it when the endpoint closes
     * (a wire that must know listens with {@link NativeMemory#addFreeListener}). A wire whose peers
     * read the segment themselves provides it (shm: a file its peers map, so the fixed path is copy
     * in, copy out, as base U-Net); the default is private memory of this process.
     *
     * @param bytes the segment's size, positive
     * @return the memory, owned by the NIC from now on
     */
    default NativeBuffer segmentMemory(int bytes) {
        return NativeMemory.allocate(bytes);
    }

    /**
     * Hands one fragment to the wire. Returns true when the wire took it: it has read the payload
     * (the sender's pages are no longer needed for it), or it {@linkplain PayloadSource#retain()
     * retained} the fragment and will report it to the {@link TransmitListener}. False when the
     * wire is back-pressured: nothing was taken, try again later.
     *
     * @param route   the peer, from {@link #route}
     * @param header  the fragment's header; read during the call only
     * @param payload the fragment's payload
     * @return whether the wire took the fragment
     */
    boolean transmit(Route route, FrameHeader header, PayloadSource payload);

    /**
     * Finishes or fails, before returning, every fragment this wire retained: the NIC calls it
     * before an endpoint or the NIC closes, so nothing is still read after the sends complete.
     * A wire that never retains has nothing to do.
     */
    default void flush() {
    }

    /**
     * Receive-side progress (e.g. drain a socket); loopback delivers in transmit instead.
     *
     * @return units of work done, 0 when idle
     */
    int poll();

    /**
     * Hands what this wire queued since its last {@link #poll} to the medium now, without receiving
     * and without waiting: the NIC calls it after the send pass it runs once more when completion
     * handlers queued sends (a server's replies), where a receive would most often find nothing, one
     * system call wasted per round. A wire that sends in {@link #transmit} has nothing to do here.
     * The default polls, as the NIC did before this method existed.
     *
     * @return units of work done, 0 when nothing was queued
     */
    default int sendQueued() {
        return poll();
    }

    @Override
    void close();

    /** A resolved peer of this transport. */
    interface Route {
        /** {@return the peer's transport address, as given to {@link Transport#route}} */
        String address();

        /**
         * The {@link FrameHeader#source} that frames from this peer arrive with, resolved when the
         * route was, so the NIC checks a connected channel's sender with one comparison.
         *
         * @return the key, not to be modified
         */
        SourceKey sourceKey();
    }
}
