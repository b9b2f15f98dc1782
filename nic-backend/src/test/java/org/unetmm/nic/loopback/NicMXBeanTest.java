package org.unetmm.nic.loopback;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicMXBean;
import org.unetmm.SendPath;

/** A NIC's counters are visible over JMX while it is open, as jconsole or {@code unetmm stat} read them, and gone after close. */
@Timeout(30)
class NicMXBeanTest {
    @Test
    void anOpenNicsCountersAreReadableOverJmxAndVanishAtClose() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName pattern = new ObjectName("org.unetmm:type=Nic,*");
        Set<ObjectName> before = server.queryNames(pattern, null);
        ObjectName mine;
        try (Nic nic = Nic.open()) {
            Set<ObjectName> names = server.queryNames(pattern, null);
            names.removeAll(before);
            assertThat(names).hasSize(1);
            mine = names.iterator().next();
            NicMXBean bean = JMX.newMXBeanProxy(server, mine, NicMXBean.class);
            assertThat(bean.getTransportAddress()).isEqualTo(nic.transportAddress());

            Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel ab = a.openChannel();
            Channel ba = b.openChannel();
            ab.connect(ba.address());
            ba.connect(ab.address());
            b.postReceive(ByteBuffer.allocateDirect(1000), 1);
            a.send(ab, ByteBuffer.allocateDirect(1000), 0, 1000, SendPath.PINNED, 1);
            assertThat(b.await(Duration.ofSeconds(10))).isNotNull();
            assertThat(bean.getMessagesReceived()).isEqualTo(1);
            assertThat(bean.getBytesReceived()).isEqualTo(1000);
            assertThat(bean.getTlbHits() + bean.getTlbMisses()).isPositive();
            assertThat(bean.getDrops()).containsKey("NO_BUFFER");
        }
        assertThat(server.isRegistered(mine)).as("unregistered at close").isFalse();
    }
}
