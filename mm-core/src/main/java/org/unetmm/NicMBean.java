package org.unetmm;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.unetmm.internal.Engine;

/** The {@link NicMXBean} of one NIC: registered when it opens, unregistered when it closes. */
final class NicMBean implements NicMXBean {
    private static final Logger LOG = LoggerFactory.getLogger(NicMBean.class);
    private final Nic nic;
    private final Engine engine;
    private ObjectName name;

    NicMBean(Nic nic, Engine engine) {
        this.nic = nic;
        this.engine = engine;
    }

    /** Registers under {@code org.unetmm:type=Nic,name=<name>}; a JVM without a platform MBean server just goes without. */
    void register(String nicName) {
        try {
            ObjectName candidate = new ObjectName("org.unetmm:type=Nic,name=" + ObjectName.quote(nicName));
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            server.registerMBean(this, candidate);
            name = candidate;
        } catch (JMException | RuntimeException e) {
            LOG.debug("NIC {} is not visible over JMX: {}", nicName, e.toString());
        }
    }

    void unregister() {
        if (name != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
            } catch (JMException | RuntimeException e) {
                LOG.debug("could not unregister {}: {}", name, e.toString());
            }
            name = null;
        }
    }

    @Override
    public String getTransportAddress() {
        return nic.transportAddress();
    }

    @Override
    public long getMessagesSent() {
        return engine.traffic().messagesSent();
    }

    @Override
    public long getBytesSent() {
        return engine.traffic().bytesSent();
    }

    @Override
    public long getFragmentsSent() {
        return engine.traffic().fragmentsSent();
    }

    @Override
    public long getMessagesReceived() {
        return engine.traffic().messagesReceived();
    }

    @Override
    public long getBytesReceived() {
        return engine.traffic().bytesReceived();
    }

    @Override
    public long getBackPressured() {
        return engine.traffic().backPressured();
    }

    @Override
    public long getDropped() {
        long sum = 0;
        for (long n : engine.drops().snapshot()) {
            sum += n;
        }
        return sum;
    }

    @Override
    public Map<String, Long> getDrops() {
        long[] counts = engine.drops().snapshot();
        Map<String, Long> drops = new LinkedHashMap<>();
        for (DropReason reason : DropReason.values()) {
            drops.put(reason.name(), counts[reason.ordinal()]);
        }
        return drops;
    }

    @Override
    public long getTlbHits() {
        return engine.tlb().stats().hits();
    }

    @Override
    public long getTlbMisses() {
        return engine.tlb().stats().misses();
    }

    @Override
    public long getTlbEvictions() {
        return engine.tlb().stats().evictions();
    }

    @Override
    public long getPinnedBytes() {
        return engine.pinCache().pinnedBytes();
    }

    @Override
    public long getPinHits() {
        return engine.pinCache().stats().hits();
    }

    @Override
    public long getPinMisses() {
        return engine.pinCache().stats().misses();
    }

    @Override
    public long getPinEvictions() {
        return engine.pinCache().stats().evictions();
    }

    @Override
    public long getHandlerErrors() {
        return nic.stats().handlerErrors();
    }

    @Override
    public int getReliableChannels() {
        return engine.reliableStats().length;
    }

    @Override
    public long getRetransmissions() {
        long sum = 0;
        for (ReliableStats s : engine.reliableStats()) {
            sum += s.retransmissions();
        }
        return sum;
    }

    @Override
    public long getTimeouts() {
        long sum = 0;
        for (ReliableStats s : engine.reliableStats()) {
            sum += s.timeouts();
        }
        return sum;
    }

    @Override
    public long getInFlight() {
        long sum = 0;
        for (ReliableStats s : engine.reliableStats()) {
            sum += s.inFlight();
        }
        return sum;
    }
}
