package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class PinCacheSmokeTest {
    @Test
    void acquireLocksPagesAndIdleHitMakesNoSystemCall() {
        long baseline = ProcessStatus.vmLckBytes();
        ByteBuffer buffer = ByteBuffer.allocateDirect(3 * 4096);
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(1 << 20).build())) {
            PinHandle handle = cache.acquire(buffer, 100, 5000);
            assertThat(ProcessStatus.vmLckBytes() - baseline).isEqualTo(cache.pinnedBytes()).isPositive();
            handle.release();
            long locks = cache.stats().lockCalls();
            PinHandle again = cache.acquire(buffer, 100, 5000);
            assertThat(cache.stats().lockCalls()).isEqualTo(locks);
            assertThat(cache.stats().hits()).isEqualTo(1);
            again.release();
            assertThat(PageTranslator.open().mode()).isNotNull();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }
}
