package org.unetmm;

import java.util.concurrent.atomic.AtomicInteger;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.Engine;
import org.unetmm.internal.reliable.ReliableProtocol;

/**
 * The software NIC of U-Net/MM: one TLB of user pages over a pin cache (its miss path pins on
 * demand), the endpoints, and one wire ({@code Transport}, chosen by URI). This class is the
 * facade an application holds; the engine behind it ({@code org.unetmm.internal}) never names it.
 *
 * <p>The send path, in order: {@link Endpoint#send} puts a descriptor on the send queue; a
 * progress round takes it to its channel's protocol, which cuts the message into MTU-sized
 * fragments and hands each to the wire; the wire pulls the payload from the sender's memory, and
 * every page it reads is first translated through the TLB (a miss traps to the pin cache, which
 * pins the page). On the receiving NIC every page written is translated the same way, and the
 * bytes land straight in the posted buffer, at their offset in the message. Unreliable channels
 * complete a send when the wire no longer needs its bytes; reliable channels
 * ({@link ChannelConfig#reliable()}) complete it on the peer's acknowledgement.
 * {@code docs/architecture.md} follows a message through every class.
 *
 * <p>Progress: a NIC thread of its own (with {@link NicConfig#idleStrategy()}) or the caller's
 * ({@link ProgressMode#CALLER}, {@link #progress()}).
 */
public final class Nic implements AutoCloseable {
    private static final AtomicInteger NIC_IDS = new AtomicInteger();

    private final NicConfig config;
    private final Upcalls upcalls;
    private final Engine engine;
    private final NicExperiments experiments;
    private final NicMBean mbean;

    private Nic(NicConfig config) {
        this.config = config;
        this.upcalls = new Upcalls(config.errorHandler());
        this.engine = new Engine(config, upcalls, ReliableProtocol.factory());
        this.experiments = new NicExperiments(engine);
        String name = "unetmm-nic-" + NIC_IDS.incrementAndGet();
        if (config.progressMode() == ProgressMode.NIC_THREAD) {
            engine.startThread(name);
        }
        this.mbean = new NicMBean(this, engine);
        mbean.register(name);
    }

    /** A NIC on the in-JVM loopback wire with default settings. */
    public static Nic open() {
        return open(NicConfig.defaults());
    }

    public static Nic open(NicConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("NIC configuration is required: NicConfig.defaults() or NicConfig.builder()");
        }
        return new Nic(config);
    }

    public NicConfig config() {
        return config;
    }

    /** What an experiment may do beyond sending and receiving: TLB traces, a cold pin cache, shootdowns. */
    public NicExperiments experiments() {
        return experiments;
    }

    /** The largest fragment payload this NIC sends. */
    public int mtu() {
        return engine.mtu();
    }

    /** This NIC's address on its wire; channel addresses are {@code <this>/<tag>#<connection id>}. */
    public String transportAddress() {
        return engine.transportAddress();
    }

    public Endpoint openEndpoint() {
        return openEndpoint(EndpointConfig.defaults());
    }

    public Endpoint openEndpoint(EndpointConfig endpointConfig) {
        if (endpointConfig == null) {
            throw new IllegalArgumentException("endpoint configuration is required: EndpointConfig.defaults()");
        }
        return new Endpoint(this, engine, upcalls, endpointConfig);
    }

    /**
     * Does the NIC's pending work once: transmits queued sends, runs the reliable channels' timers,
     * takes arrivals from the wire. Returns how much was done (0 = idle). In CALLER mode the
     * application calls this.
     */
    public int progress() {
        return engine.progress();
    }

    public NicStats stats() {
        var traffic = engine.traffic();
        return new NicStats(traffic.messagesSent(), traffic.bytesSent(), traffic.fragmentsSent(),
                traffic.messagesReceived(), traffic.bytesReceived(), NicStats.dropMap(engine.drops().snapshot()),
                traffic.backPressured(), engine.tlb().stats(), engine.pinCache().stats(), upcalls.errors());
    }

    public boolean isClosed() {
        return engine.isClosed();
    }

    /**
     * Closes every endpoint (their pending operations complete with CLOSED), stops the NIC thread,
     * closes the wire and releases every pin: pinned bytes return to zero.
     */
    @Override
    public void close() {
        mbean.unregister();
        engine.close();
    }

    /** The public handle of a channel's state (set when the channel opened). */
    static Channel handle(ChannelState state) {
        return state == null ? null : (Channel) state.handle;
    }
}
