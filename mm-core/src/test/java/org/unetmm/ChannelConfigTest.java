package org.unetmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChannelConfigTest {
    @Test
    void defaultsAreUnreliableAndReliableDefaultsValidate() {
        assertThat(ChannelConfig.unreliable().isReliable()).isFalse();
        ChannelConfig reliable = ChannelConfig.reliable();
        assertThat(reliable.isReliable()).isTrue();
        assertThat(reliable.checksum()).isTrue();
        assertThat(reliable.toBuilder().build()).isEqualTo(reliable);
    }

    @Test
    void badTimersFailWhenBuiltAndSayWhatToFix() {
        assertThatThrownBy(() -> ChannelConfig.builder().minRto(Duration.ofMillis(5)).initialRto(Duration.ofMillis(1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minRto <= initialRto");
        assertThatThrownBy(() -> ChannelConfig.builder().ackDelay(Duration.ofMillis(1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("below minRto");
        assertThatThrownBy(() -> ChannelConfig.builder().window(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window");
        assertThatThrownBy(() -> ChannelConfig.builder().maxRetransmits(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRetransmits");
        assertThatThrownBy(() -> ChannelConfig.builder().keepAlive(Duration.ofMillis(-1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keepAlive");
    }
}
