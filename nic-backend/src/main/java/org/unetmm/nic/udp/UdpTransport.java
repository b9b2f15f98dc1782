package org.unetmm.nic.udp;

import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Enumeration;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.unetmm.Nic;
import org.unetmm.TransportException;
import org.unetmm.pinning.KernelException;
import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Inbound;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.SourceKey;
import org.unetmm.spi.TransmitListener;
import org.unetmm.spi.Transport;

/**
 * The UDP wire: NICs in other processes and on other hosts, one non-blocking IPv4 UDP socket per
 * NIC, bound to {@code udp://host:port} (port 0 = ephemeral; {@link #address()} reports the
 * port the kernel chose). One {@link WireFrame} is one datagram. Channel addresses are
 * {@code udp://host:port/tag}.
 *
 * <p><b>Send: many datagrams per system call, small messages coalesced.</b> {@link #transmit}
 * queues each fragment in the round's {@link SendBatch}: its wire header, then iovecs straight into
 * the sender's translated pages (pinned path) or its fixed segment, retained so the NIC completes
 * the send only once the kernel has the bytes; small payloads are copied instead. Small whole
 * messages for one peer share a datagram, each a frame of its own ({@link WireFrame#FLAG_MORE}).
 * The batch leaves with one {@code sendmmsg(2)} when the round ends ({@link #poll}, which the
 * engine calls after its send loop), when it is full, or on {@link #flush}; nothing waits to fill
 * a datagram. A full batch the kernel will not take ({@code EAGAIN}/{@code ENOBUFS}) makes
 * {@code transmit} return false (back-pressure: the NIC tries the fragment again on its next
 * progress). Errors a datagram socket reports for good (unreachable, refused, firewall, too long)
 * lose the datagram, as UDP does, and are counted; its sends still complete, since an unreliable
 * channel completes when the last byte is handed to the wire.
 *
 * <p><b>Receive: the header is checked before a byte reaches user memory</b>, by direct
 * placement for large fragments and by copy from a {@code recvmmsg} vector for small ones and GRO
 * runs: see {@link Receiver}.
 *
 * <p><b>GSO and GRO</b> (on by default where the kernel takes them, {@code gso=false} /
 * {@code gro=false} in the URI turn them off; {@link #features()} says which are on). With GSO a
 * run of fragments for one peer that are all as long as the first (all but the last) leaves as one
 * super-datagram with a {@code UDP_SEGMENT} cmsg, cut by the kernel into datagrams that are each a
 * whole wire frame (see {@link SendBatch}), so a receiver without GRO reads them as ever. With GRO
 * the receive queue keeps such runs whole, and {@link Receiver} cuts them again by the segment
 * size the kernel reports. Both are probed when the wire opens (a {@code setsockopt} the kernel
 * refuses turns the feature off, with one log line).
 *
 * <p><b>Who sent it.</b> Both receives name the sender's {@code sockaddr} ({@code msg_name}), which
 * becomes the frame's {@link FrameHeader#source} key; a route holds the key its peer's frames arrive
 * with, so the NIC takes a connected channel's frames from its peer only. A route to the wildcard
 * 0.0.0.0 reaches this host: Linux sends it to the socket's own bound address, or to 127.0.0.1 when
 * that is the wildcard too ({@code ip_route_output_key_hash_rcu}), and the peer's frames come back from
 * there, so that is the key such a route holds.
 *
 * <p><b>MTU.</b> Bound to a loopback address: the largest datagram, {@link WireFrame#MAX_FRAGMENT}
 * payload bytes. Otherwise the interface MTU of the bound address (the smallest of the up
 * interfaces for 0.0.0.0) minus 20 (IP) + 8 (UDP) + 72 (wire header), so a fragment never needs
 * IP fragmentation. {@code NicConfig.mtu} overrides it.
 *
 * <p><b>Native memory</b>: the receive side's block and slots are drawn in {@link Receiver}, the send
 * batch in {@link SendBatch}, the structs in {@link SocketStructs}.
 *
 * <p><b>MSG_ZEROCOPY</b> ({@code zerocopy=BYTES}, off by default): {@code SO_ZEROCOPY} is set when
 * the wire opens, and a kernel that refuses it fails the open with the fix (unlike GSO and GRO,
 * which are defaults probed quietly, this is a key the user wrote: running without it would
 * measure something else than asked). Fragments of at least that many bytes sent from the sender's
 * pages leave with {@code MSG_ZEROCOPY}, and their sends complete when {@link #poll} reads the
 * kernel's error-queue notice that covers them ({@link ZeroCopyNotifications}); {@link #flush} and
 * {@link #close} wait up to {@value #ZEROCOPY_WAIT_MILLIS} ms for the notices still due, then release
 * what is left as failed, so nothing stays pinned.
 *
 * <p>Threading: as the SPI says, one NIC thread at a time; the counters are single-writer and may
 * be read from any thread.
 */
public final class UdpTransport implements Transport {
    private static final int IP_UDP_OVERHEAD = 28;
    /** 127.0.0.1 as UdpAddress holds an IPv4 address (big-endian int). */
    private static final int LOOPBACK_IP = 0x7F00_0001;
    private static final Logger LOG = LoggerFactory.getLogger(UdpTransport.class);
    /** How long flush and close wait for zero-copy notices still due before failing their sends. */
    static final long ZEROCOPY_WAIT_MILLIS = 500;

    private static final ConcurrentHashMap<String, UdpTransport> OPEN = new ConcurrentHashMap<>();

    private final UdpConfig config;
    private final int fd;
    private final Receiver receiver;
    private final SendBatch batch;
    /** Null unless zerocopy=BYTES was given. */
    private final ZeroCopyNotifications zeroCopy;
    private final UdpAddress bound;
    private final String address;
    private final int mtu;
    private final int receiveBufferBytes;
    private final int sendBufferBytes;
    private final boolean groOn;
    private volatile boolean closed;

    /**
     * Which of the kernel's UDP offloads this wire uses: asked for in the URI and taken by the kernel.
     *
     * @param gso sends runs of equal fragments as one {@code UDP_SEGMENT} super-datagram (false after the
     *            kernel refused one: a device without checksum offload)
     * @param gro receives with {@code UDP_GRO}: runs arrive whole and are cut by their segment size
     */
    public record Features(boolean gso, boolean gro) {
        @Override
        public String toString() {
            return "gso=" + (gso ? "on" : "off") + " gro=" + (gro ? "on" : "off");
        }
    }

    /** A peer NIC, resolved once when a channel connects: where to send, and the key its frames arrive with. */
    private record UdpRoute(String address, long sockaddrWord, SourceKey sourceKey) implements Route {
    }

    /**
     * Opens the socket, sizes its buffers and binds it; fails at once, naming the fix. The transport owns
     * the socket and its native block until {@link #close()}.
     *
     * @param config the validated bind address and socket settings, not null
     * @throws org.unetmm.TransportException if the socket cannot be created, sized or bound (e.g. the port is taken)
     * @throws IllegalArgumentException if the kernel refuses {@code busypoll=} or {@code zerocopy=} as asked
     */
    public UdpTransport(UdpConfig config) {
        this.config = config;
        int socket;
        try {
            socket = Libc.udpSocket();
        } catch (KernelException e) {
            throw opening(config, e);
        }
        Receiver receiving = null;
        try {
            this.receiveBufferBytes = sizeBuffer(socket, Libc.SO_RCVBUF, Libc.SO_RCVBUFFORCE, config.receiveBufferBytes());
            this.sendBufferBytes = sizeBuffer(socket, Libc.SO_SNDBUF, Libc.SO_SNDBUFFORCE, config.sendBufferBytes());
            if (config.busyPollMicros() > 0 && !Libc.trySetsockopt(socket, Libc.SOL_SOCKET, Libc.SO_BUSY_POLL,
                    config.busyPollMicros())) {
                throw new IllegalArgumentException("busypoll=" + config.busyPollMicros() + " was refused ("
                        + Errno.name(Libc.lastErrno()) + "): raising SO_BUSY_POLL above net.core.busy_read needs"
                        + " CAP_NET_ADMIN; drop the key or run with the capability");
            }
            this.groOn = config.gro() && probe(socket, SocketStructs.UDP_GRO, 1, "gro");
            if (config.zeroCopy() > 0 && !Libc.trySetsockopt(socket, Libc.SOL_SOCKET, SocketStructs.SO_ZEROCOPY, 1)) {
                throw new IllegalArgumentException("zerocopy=" + config.zeroCopy() + " was refused: the kernel does not"
                        + " take SO_ZEROCOPY on a UDP socket (" + Errno.name(Libc.lastErrno()) + "; MSG_ZEROCOPY for UDP"
                        + " needs Linux 5.0 or later); drop the zerocopy key to send without it");
            }
            Libc.bind(socket, config.bind().sockaddr(), config.bind().toString());
            receiving = new Receiver(socket, config, groOn);
            this.bound = UdpAddress.fromSockaddrWord(receiving.boundSockaddrWord());
        } catch (RuntimeException e) {
            closeQuietly(socket, receiving);
            throw opening(config, e);
        }
        this.fd = socket;
        this.receiver = receiving;
        this.address = bound.toString();
        this.mtu = defaultMtu(bound);
        // UDP_SEGMENT as a socket option of 0 changes nothing (each send's cmsg names its size): the probe
        boolean gsoOn = config.gso() && probe(socket, SocketStructs.UDP_SEGMENT, 0, "gso");
        SendBatch sendBatch;
        ZeroCopyNotifications notifications = null;
        try {
            notifications = config.zeroCopy() > 0 ? new ZeroCopyNotifications(fd) : null;
            sendBatch = new SendBatch(fd, mtu + WireFrame.HEADER_LENGTH, config.sendCopy(), gsoOn, notifications,
                    config.zeroCopy());
        } catch (RuntimeException e) {
            if (notifications != null) {
                notifications.close();
            }
            closeQuietly(fd, receiver);
            throw e;
        }
        this.batch = sendBatch;
        this.zeroCopy = notifications;
        OPEN.put(address, this);
    }

    /** Sets a SOL_UDP option; false, with one log line, where the kernel does not take it. */
    private static boolean probe(int socket, int option, int value, String key) {
        if (Libc.trySetsockopt(socket, SocketStructs.SOL_UDP, option, value)) {
            return true;
        }
        LOG.info("udp wire: the kernel refused {} ({}); running without it", key.toUpperCase(Locale.ROOT),
                Errno.name(Libc.lastErrno()));
        return false;
    }

    /**
     * Which UDP offloads this kernel takes, probed on a socket of its own (what a wire opened with the defaults uses).
     *
     * @return whether {@code UDP_SEGMENT} and {@code UDP_GRO} were accepted; the probe socket is closed again
     */
    public static Features kernelFeatures() {
        int socket = Libc.udpSocket();
        try {
            return new Features(Libc.trySetsockopt(socket, SocketStructs.SOL_UDP, SocketStructs.UDP_SEGMENT, 0),
                    Libc.trySetsockopt(socket, SocketStructs.SOL_UDP, SocketStructs.UDP_GRO, 1));
        } finally {
            Libc.close(socket);
        }
    }

    /**
     * Which UDP offloads this wire uses.
     *
     * @return the offloads asked for and taken by the kernel, as of now (GSO turns off after the kernel refuses a send)
     */
    public Features features() {
        return new Features(batch.gso(), groOn);
    }

    /**
     * The udp transport behind {@code nic}, for its statistics.
     *
     * @param nic a NIC opened in this JVM with a {@code udp://} transport
     * @return its open transport, never null
     * @throws IllegalArgumentException if no open udp transport in this JVM has that NIC's address
     */
    public static UdpTransport of(Nic nic) {
        UdpTransport transport = OPEN.get(nic.transportAddress());
        if (transport == null) {
            throw new IllegalArgumentException("NIC at " + nic.transportAddress() + " has no open udp transport in this"
                    + " JVM: open it with NicConfig transport udp://host:port");
        }
        return transport;
    }

    /** Asks for {@code bytes}; if the kernel caps it at the sysctl maximum, forces it where the process may. */
    private static int sizeBuffer(int fd, int option, int forceOption, int bytes) {
        Libc.setsockopt(fd, Libc.SOL_SOCKET, option, bytes);
        int effective = Libc.getsockoptInt(fd, Libc.SOL_SOCKET, option);
        if (effective < 2L * bytes && Libc.trySetsockopt(fd, Libc.SOL_SOCKET, forceOption, bytes)) {
            effective = Libc.getsockoptInt(fd, Libc.SOL_SOCKET, option);
        }
        return effective;
    }

    /** The largest fragment payload that crosses the bound interface in one IP packet. */
    static int defaultMtu(UdpAddress bound) {
        if (bound.isLoopback()) {
            return WireFrame.MAX_FRAGMENT;
        }
        int linkMtu = 0;
        try {
            if (!bound.isWildcard()) {
                NetworkInterface nif = NetworkInterface.getByInetAddress(bound.inetAddress());
                linkMtu = nif == null ? 0 : nif.getMTU();
            } else {
                int loopbackMtu = 0;
                for (Enumeration<NetworkInterface> e = NetworkInterface.getNetworkInterfaces(); e.hasMoreElements(); ) {
                    NetworkInterface nif = e.nextElement();
                    if (!nif.isUp() || nif.getMTU() <= 0) {
                        continue;
                    }
                    if (nif.isLoopback()) {
                        loopbackMtu = nif.getMTU();
                    } else {
                        linkMtu = linkMtu == 0 ? nif.getMTU() : Math.min(linkMtu, nif.getMTU());
                    }
                }
                if (linkMtu == 0) {
                    linkMtu = loopbackMtu;
                }
            }
        } catch (SocketException e) {
            linkMtu = 0;
        }
        if (linkMtu <= 0) {
            linkMtu = 1500;
        }
        return Math.max(64, Math.min(WireFrame.MAX_FRAGMENT, linkMtu - IP_UDP_OVERHEAD - WireFrame.HEADER_LENGTH));
    }

    /**
     * The configuration this transport was opened with.
     *
     * @return the validated configuration as asked for (the bind port may be 0; see {@link #boundAddress()})
     */
    public UdpConfig config() {
        return config;
    }

    @Override
    public String address() {
        return address;
    }

    /**
     * The address the socket is bound to.
     *
     * @return the bound address, with the real port when port 0 was asked for
     */
    public UdpAddress boundAddress() {
        return bound;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public void start(Inbound inbound, TransmitListener transmitted) {
        receiver.start(inbound);
        batch.start(transmitted);
        if (zeroCopy != null) {
            zeroCopy.start(transmitted);
        }
    }

    @Override
    public Route route(String remoteAddress) {
        UdpAddress peer = UdpAddress.parse(remoteAddress, false);
        UdpAddress from = !peer.isWildcard() ? peer : new UdpAddress(bound.isWildcard() ? LOOPBACK_IP : bound.ip(), peer.port());
        return new UdpRoute(peer.toString(), peer.sockaddrWord(), UdpAddress.ipv4Key(from.sockaddrWord(), new SourceKey()));
    }

    // ---- send ----------------------------------------------------------------------------------

    @Override
    public boolean transmit(Route route, FrameHeader header, PayloadSource payload) {
        if (closed) {
            batch.countLost();
            return true;
        }
        if (!batch.hasRoom() && !batch.send()) {
            return false; // the kernel pushed back with the batch full
        }
        try {
            batch.add(((UdpRoute) route).sockaddrWord(), header, payload);
        } catch (RuntimeException e) {
            return true; // the NIC kept the failure (a page it could not translate) and fails the send with it
        }
        return true;
    }

    /** Sends what this round queued and, retrying a back-pressured kernel for a while, fails what cannot go. */
    @Override
    public void flush() {
        if (!closed) {
            batch.flush();
            settleZeroCopy("the kernel's zero-copy notice did not come while the wire was flushed");
        }
    }

    /** Waits, bounded, for the zero-copy notices still due, then fails the sends they would have completed. */
    private void settleZeroCopy(String why) {
        if (zeroCopy != null && zeroCopy.outstanding() > 0) {
            zeroCopy.await(ZEROCOPY_WAIT_MILLIS * 1_000_000);
            zeroCopy.failAll(why + " (" + ZEROCOPY_WAIT_MILLIS + " ms)");
        }
    }

    // ---- receive -------------------------------------------------------------------------------

    @Override
    public int poll() {
        if (closed) {
            return 0;
        }
        int done = sendQueued();
        done += receiver.poll();
        if (done == 0 && config.waitMicros() > 0 && !receiver.holding()) {
            receiver.idle(); // nothing to do: wait for the socket, unless a frame waits for the NIC
        }
        return done;
    }

    /** The end of a round's sends: one sendmmsg for what the round queued, and the zero-copy notices due; no receive. */
    @Override
    public int sendQueued() {
        if (closed) {
            return 0;
        }
        int done = 0;
        if (batch.pending() > 0) {
            int before = batch.pending();
            batch.send();
            done += before - batch.pending();
        }
        if (zeroCopy != null && zeroCopy.outstanding() > 0) {
            done += zeroCopy.drain(); // the kernel's notices complete the zero-copy sends they cover
        }
        return done;
    }

    // ---- the rest -------------------------------------------------------------------------------

    /**
     * A snapshot of the counters, safe to call from any thread; counters are read one by one, so they may
     * be a few events apart from each other.
     *
     * @return a fresh snapshot, never null
     */
    public UdpStats stats() {
        long[] counts = new long[WireDropReason.values().length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = receiver.count(Receiver.DROPPED + i);
        }
        SendBatch b = batch;
        Receiver r = receiver;
        return new UdpStats(address, mtu, receiveBufferBytes, sendBufferBytes, b.count(SendBatch.DATAGRAMS_SENT),
                b.count(SendBatch.FRAMES_SENT), b.count(SendBatch.BYTES_SENT), b.count(SendBatch.SEND_CALLS),
                b.count(SendBatch.SEND_BACK_PRESSURED), b.count(SendBatch.SENDS_LOST), b.count(SendBatch.GATHER_COPIES),
                r.count(Receiver.DATAGRAMS_RECEIVED), r.count(Receiver.FRAMES_RECEIVED), r.count(Receiver.BYTES_RECEIVED),
                r.count(Receiver.RECEIVE_CALLS), r.count(Receiver.FRAMES_PLACED), r.count(Receiver.FRAMES_COPIED),
                r.count(Receiver.FRAMES_DECLINED), UdpStats.dropMap(counts), b.count(SendBatch.GSO_SENDS),
                b.count(SendBatch.GSO_SEGMENTS), r.count(Receiver.GRO_RUNS), r.count(Receiver.GRO_SEGMENTS),
                zeroCopyCount(ZeroCopyNotifications.SENDS_ZEROCOPY), zeroCopyCount(ZeroCopyNotifications.NOTIFICATIONS),
                zeroCopyCount(ZeroCopyNotifications.NOTIFIED_SENDS), zeroCopyCount(ZeroCopyNotifications.COPIED_SENDS),
                zeroCopyCount(ZeroCopyNotifications.FALLBACKS));
    }

    private long zeroCopyCount(int slot) {
        return zeroCopy == null ? 0 : zeroCopy.count(slot);
    }

    /**
     * Whether {@link #close()} has run; a closed wire's socket is gone and frames given to it are lost.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closed;
    }

    /** Closes the socket and frees the native block; frames sent to this address afterwards are lost. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (batch.pending() > 0) {
            batch.send(); // best effort: what the last round queued
        }
        batch.fail("the udp wire was closed before the datagram was sent");
        settleZeroCopy("the udp wire was closed before the kernel's zero-copy notice came");
        closed = true;
        OPEN.remove(address, this);
        try {
            closeQuietly(fd, receiver);
        } finally {
            batch.close();
            if (zeroCopy != null) {
                zeroCopy.close();
            }
        }
    }

    /**
     * A socket call's refusal while opening, told as the networking failure it is (its errno in the
     * cause); anything else (the native memory of the block, a bad key) as it came.
     */
    private static RuntimeException opening(UdpConfig config, RuntimeException e) {
        if (e instanceof KernelException k && switch (k.call()) {
            case "socket", "bind", "setsockopt", "getsockopt", "getsockname" -> true;
            default -> false;
        }) {
            return new TransportException("cannot open the udp wire at " + config.bind() + ": " + k.getMessage(), k);
        }
        return e;
    }

    private static void closeQuietly(int fd, Receiver receiver) {
        try {
            Libc.close(fd);
        } finally {
            if (receiver != null) {
                receiver.close();
            }
        }
    }

    @Override
    public String toString() {
        return "UdpTransport[" + address + " mtu=" + mtu + " rcvbuf=" + receiveBufferBytes + " " + features() + "]";
    }
}
