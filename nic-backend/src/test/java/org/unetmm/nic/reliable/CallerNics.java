package org.unetmm.nic.reliable;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.pinning.ProcessStatus;

/**
 * The NICs of one test, driven by the test's own {@link Nic#progress()} calls (CALLER mode), closed
 * together at the end with VmLck checked back at its baseline (DESIGN invariant 5).
 */
final class CallerNics {
    private final List<Nic> nics = new ArrayList<>();
    private final long baseline = ProcessStatus.vmLckBytes();

    Nic open(String transport, int mtu) {
        Nic nic = Nic.open(NicConfig.builder().transport(transport).progressMode(ProgressMode.CALLER).mtu(mtu).build());
        nics.add(nic);
        return nic;
    }

    /** One progress round of every NIC still open. */
    void progress() {
        for (Nic nic : nics) {
            nic.progress();
        }
    }

    /** The test closed {@code nic} itself (a peer that vanishes): no longer driven or closed here. */
    void forget(Nic nic) {
        nics.remove(nic);
    }

    void closeAllAndCheckVmLck() {
        for (Nic nic : nics) {
            nic.close();
        }
        nics.clear();
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after every NIC closed").isEqualTo(baseline);
    }
}
