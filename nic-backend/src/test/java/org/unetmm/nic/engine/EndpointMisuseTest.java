package org.unetmm.nic.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.InvalidDescriptorException;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.SegmentPinException;
import org.unetmm.SendPath;
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.PinBudgetExceededException;
import org.unetmm.pinning.ProcessStatus;

/** Misuse of the endpoint API gets a typed error that names the fix, never a bare JDK exception. */
@Timeout(60)
class EndpointMisuseTest {

    @Test
    void awaitWithAnEnormousTimeoutWaitsInsteadOfOverflowing() {
        try (Nic nic = Nic.open()) {
            Endpoint a = nic.openEndpoint();
            Endpoint b = nic.openEndpoint();
            Channel[] ab = Pairs.connect(a, b);
            a.send(ab[0], ByteBuffer.allocateDirect(8), 0, 8, SendPath.PINNED, 1);
            Completion c = a.await(Duration.ofMillis(Long.MAX_VALUE));
            assertThat(c).isNotNull().extracting(Completion::status).isEqualTo(CompletionStatus.OK);
            assertThat(a.await(Duration.ZERO)).as("nothing more: a zero wait returns at once").isNull();
            assertThatThrownBy(() -> a.await(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("timeout");
            assertThatThrownBy(() -> a.await(null)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void sendingANullBufferIsATypedError() {
        try (Nic nic = Nic.open()) {
            Endpoint a = nic.openEndpoint();
            Endpoint b = nic.openEndpoint();
            Channel[] ab = Pairs.connect(a, b);
            assertThatThrownBy(() -> a.send(ab[0], null, SendPath.PINNED, 1))
                    .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("null");
            assertThatThrownBy(() -> a.send(ab[0], null, 0, 8, SendPath.FIXED_SEGMENT, 1))
                    .isInstanceOf(InvalidDescriptorException.class).hasMessageContaining("null");
        }
    }

    @Test
    void aSegmentTooLargeForThePinBudgetIsRefusedNamingTheSettingThatFixesIt() {
        long baseline = ProcessStatus.vmLckBytes();
        try (Nic nic = Nic.open(NicConfig.builder().pinBudget(PinBudget.ofBytes(1 << 20)).build())) {
            assertThatThrownBy(() -> nic.openEndpoint(EndpointConfig.builder().segmentBytes(2 << 20).build()))
                    .isInstanceOf(SegmentPinException.class).isInstanceOf(PinBudgetExceededException.class)
                    .hasMessageContaining("EndpointConfig.builder().segmentBytes")
                    .hasMessageContaining("RLIMIT_MEMLOCK");
            assertThat(nic.openEndpoint(EndpointConfig.builder().segmentBytes(256 << 10).build())).isNotNull();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    @Test
    void theDefaultEndpointSegmentLeavesRoomForSeveralEndpointsUnderAnOrdinaryUsersLimit() {
        // a default Linux account may lock 8 MiB: the README's two endpoints and more must fit
        try (Nic nic = Nic.open(NicConfig.builder().pinBudget(PinBudget.ofBytes(8 << 20)).build())) {
            for (int i = 0; i < 4; i++) {
                assertThat(nic.openEndpoint()).as("default endpoint " + i).isNotNull();
            }
        }
    }
}
