import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CurrentTimeTool } from './builtin/current-time.tool.js';
import { HttpGetTool } from './builtin/http-get.tool.js';
import { ToolRegistry } from './tool-registry.service.js';
import { ToolRunner } from './tool-runner.service.js';

@Module({
  imports: [DiscoveryModule],
  providers: [ToolRegistry, ToolRunner, CurrentTimeTool, HttpGetTool],
  exports: [ToolRegistry, ToolRunner],
})
export class ToolsModule {}
