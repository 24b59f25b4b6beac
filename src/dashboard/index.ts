export { createDashboard, type Dashboard, type DashboardOptions } from './server.js';
