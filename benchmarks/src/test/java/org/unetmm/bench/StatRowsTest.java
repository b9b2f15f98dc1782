package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.unetmm.Nic;
import org.unetmm.NicConfig;

/**
 * {@code unetmm stat}'s lines for one interval, read from this JVM's own platform MBean server,
 * where every open NIC registers: a NIC that closes between the listing and the reading.
 */
class StatRowsTest {
    private static Set<ObjectName> listed(MBeanServer server) throws Exception {
        return new LinkedHashSet<>(server.queryNames(new ObjectName("org.unetmm:type=Nic,*"), null));
    }

    /** The "sent msg/s" column: the third, after the NIC's name and address. */
    private static String sentRate(String row) {
        return row.trim().split("\\s+")[2];
    }

    private static String onlyNew(Set<ObjectName> now, Set<ObjectName> before) {
        Set<ObjectName> added = new LinkedHashSet<>(now);
        added.removeAll(before);
        assertThat(added).hasSize(1);
        return added.iterator().next().getKeyProperty("name").replace("\"", "");
    }

    @Test
    void aNicThatClosedAfterTheListingHasNoLineAndTheOthersStillDo() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> others = listed(server);
        try (Nic staying = Nic.open(NicConfig.builder().transport("loopback:").build())) {
            String stayingName = onlyNew(listed(server), others);
            others.addAll(listed(server));
            Nic closing = Nic.open(NicConfig.builder().transport("loopback:").build());
            Set<ObjectName> names = listed(server);
            String closingName = onlyNew(names, others);
            closing.close(); // what a process under watch may do at any moment
            CounterRates rates = new CounterRates();
            List<String> rows = StatCommand.rows(server, names, rates);
            assertThat(rows).noneMatch(r -> r.startsWith(closingName + " "));
            assertThat(rows).filteredOn(r -> r.startsWith(stayingName + " ")).singleElement()
                    .matches(r -> sentRate(r).equals("-"), "has no rate on its first line");
            List<String> next = StatCommand.rows(server, listed(server), rates);
            assertThat(next).filteredOn(r -> r.startsWith(stayingName + " ")).singleElement()
                    .matches(r -> sentRate(r).matches("[0-9]+"), "has rates on its second line");
            assertThat(staying.stats()).isNotNull();
        }
    }
}
