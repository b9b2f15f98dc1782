package org.unetmm.internal;

import org.unetmm.DropReason;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Inbound;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Placement;

/**
 * The receive side of the engine, as a wire sees it ({@link Inbound}): every arriving header goes
 * through the {@link ChannelTable}'s one check, then to its channel's protocol, which decides
 * where the payload goes and completes the receive. A wire may call from another thread (the
 * loopback sender's NIC): the engine lock is only tried, and a busy NIC makes the wire keep the
 * frame and offer it again. From inside the engine's own round (the thread holds it already) no
 * hold is taken.
 */
final class Receiver implements Inbound {
    private final Engine engine;
    private final ChannelTable table;
    private final DropCounters drops;
    /** The channel of the fragment claimed now: the engine lock stays held from claim to commit or abort. */
    private ChannelState claimed;
    /** Whether that claim found the engine already held by its thread (then it took no hold to release). */
    private boolean claimedNested;

    Receiver(Engine engine, ChannelTable table, DropCounters drops) {
        this.engine = engine;
        this.table = table;
        this.drops = drops;
    }

    @Override
    public boolean onFragment(FrameHeader h, PayloadSource payload) {
        boolean nested = engine.isHeldByCurrentThread();
        if (!nested && !engine.tryLockFromWire()) {
            return false;
        }
        try {
            if (!engine.isClosed()) {
                ChannelState channel = table.target(h);
                if (channel != null) {
                    channel.protocol.deliver(h, payload, EngineClock.now());
                }
            }
            return true;
        } finally {
            if (!nested) {
                engine.unlockFromWire();
            }
        }
    }

    @Override
    public void peerLost(String transportAddress, String why) {
        boolean nested = engine.isHeldByCurrentThread();
        if (!nested) {
            engine.lock();
        }
        try {
            if (!engine.isClosed()) {
                for (ChannelState channel : table.connectedTo(transportAddress)) { // a copy: failing closes channels
                    channel.protocol.peerLost(why);
                }
            }
        } finally {
            if (!nested) {
                engine.unlock();
            }
        }
    }

    @Override
    public boolean claim(FrameHeader h, Placement placement) {
        placement.clear();
        boolean nested = engine.isHeldByCurrentThread();
        if (!nested && !engine.tryLockFromWire()) {
            return false;
        }
        boolean keep = false;
        try {
            if (engine.isClosed() || claimed != null) {
                return false;
            }
            ChannelState channel = table.target(h);
            if (channel == null || !channel.protocol.claim(h, placement, EngineClock.now())) {
                return false;
            }
            claimed = channel;
            claimedNested = nested;
            keep = true;
            return true;
        } finally {
            if (!keep && !nested) {
                engine.unlockFromWire();
            }
        }
    }

    @Override
    public void commit(FrameHeader h) {
        ChannelState channel = claimed;
        if (channel == null) {
            throw new IllegalStateException("commit without a successful claim");
        }
        claimed = null;
        try {
            channel.protocol.commit(h, EngineClock.now());
        } finally {
            releaseClaim();
        }
    }

    @Override
    public void abort(FrameHeader h, String reason) {
        if (claimed == null) {
            throw new IllegalStateException("abort without a successful claim");
        }
        claimed = null;
        drops.drop(DropReason.MALFORMED);
        releaseClaim();
    }

    private void releaseClaim() {
        if (!claimedNested) {
            engine.unlockFromWire();
        }
    }
}
