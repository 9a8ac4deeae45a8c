import type { ServerResponse } from 'node:http';
import { Controller, Get, Res } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';

/** Prometheus scrape endpoint. Unauthenticated, like most: keep it off the public network. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  async scrape(@Res() res: ServerResponse): Promise<void> {
    const body = await this.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
  }
}
