package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.unetmm.nic.udp.UdpTransport;

/** run.json's kernelFeatures: what the kernel offers the wire, and what the run's URI switched off. */
class RunRecordKernelFeaturesTest {
    @Test
    void udpOffloadsAreSaidAsTheKernelOffersThemAndAsTheUriKeysTurnThemOff() {
        UdpTransport.Features kernel = UdpTransport.kernelFeatures();
        Map<String, Object> byDefault = RunRecord.kernelFeatures("udp://127.0.0.1:0");
        assertThat(byDefault.get("gso")).isEqualTo(kernel.gso() ? "used (UDP_SEGMENT)" : "not offered by this kernel (UDP_SEGMENT)");
        assertThat(byDefault.get("gro")).isEqualTo(kernel.gro() ? "used (UDP_GRO)" : "not offered by this kernel (UDP_GRO)");
        assertThat(byDefault.get("zerocopy")).isEqualTo("off");
        Map<String, Object> off = RunRecord.kernelFeatures("udp://127.0.0.1:0?gso=false&gro=false&zerocopy=16384");
        if (kernel.gso()) {
            assertThat(off.get("gso")).isEqualTo("off by gso=false");
        }
        if (kernel.gro()) {
            assertThat(off.get("gro")).isEqualTo("off by gro=false");
        }
        assertThat((String) off.get("zerocopy")).startsWith("MSG_ZEROCOPY from 16384 B");
        assertThat(RunRecord.kernelFeatures("loopback:")).isEmpty();
    }
}
